"""``{{ value|text }}``: stored text (core.i18n_text) in the reader's language."""
from django import template

from core.i18n_text import render

register = template.Library()


@register.filter(name="text")
def text(value) -> str:
    return render(value)


@register.filter(name="audit_summary")
def audit_summary(value) -> str:
    from core.audit_display import summary_text

    return summary_text(value or "")


@register.filter(name="audit_actor")
def audit_actor(value) -> str:
    from core.audit_display import actor_text

    return actor_text(value or "")


@register.filter(name="rule_id")
def rule_id(value) -> str:
    """A policy rule's id (``RP-6``) as is; the internal kinds of error that are not a rule
    (``INPUT``, ``STATE``) as a dash (issue 13.2)."""
    from core.views_helpers import is_rule_id

    return value if is_rule_id(value) else "—"
