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
