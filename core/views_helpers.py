"""The one view helper that turns a service's RuleViolation into form errors (CONVENTIONS:
one DRF exception handler and one view helper carry a RuleViolation to the user)."""
from __future__ import annotations

import re
from collections.abc import Mapping

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from core.errors import Problem, RuleViolation

# Rule ids of the spec (GU-5, RP-12, …) are shown before the message; the generic
# input/state/rule-set codes are not, they would mean nothing to the person reading.
_RULE_ID = re.compile(r"^[A-Z]{2,}(-[A-Z]+)?-[A-Z]?\d+$")  # GU-5, RP-12, RP-M5, CG-13


def is_rule_id(value) -> bool:
    """True for a policy rule's id (GU-5, RP-M5), false for INPUT, STATE, RULESET …"""
    return bool(_RULE_ID.match(value or "")) if isinstance(value, str) else False


def problem_message(problem: Problem) -> str:
    """``"GU-12: A government guarantee firm may not …"``; plain message for INPUT/STATE codes."""
    message = str(problem.message)
    return f"{problem.rule}: {message}" if _RULE_ID.match(problem.rule or "") else message


def _form_field_for(form: forms.BaseForm, name: str | None, field_map: Mapping[str, str | None]) -> str | None:
    """The form field a problem's field belongs to, or None for the non-field errors.

    Order: an explicit ``field_map`` entry; the name itself; for a dotted name ``prefix.x``,
    the form's ``x`` then ``prefix_x`` field (``borrower.kind`` → ``kind`` or ``borrower_kind``).
    """
    if not name:
        return None
    if name in field_map:
        return field_map[name]
    if name in form.fields:
        return name
    if "." in name:
        prefix, _, rest = name.rpartition(".")
        for candidate in (rest, f"{prefix.replace('.', '_')}_{rest}"):
            if candidate in form.fields:
                return candidate
    return None


def add_rule_violation(
    form: forms.BaseForm, exc: RuleViolation, *, field_map: Mapping[str, str | None] | None = None
) -> None:
    """Attach every problem of ``exc`` to ``form``: each next to its field, the rest on top.

    ``field_map`` names the form field for a service field the form spells differently
    (``{"borrower": "is_government_platform"}``); a value of None sends it to the top.
    """
    field_map = field_map or {}
    if not hasattr(form, "cleaned_data"):  # add_error needs a validated form
        form.cleaned_data = {}
    for problem in exc.problems:
        target = _form_field_for(form, problem.field, field_map)
        if target is not None and target not in form.fields:
            target = None
        form.add_error(target, problem_message(problem))


def add_problems(
    form: forms.BaseForm, problems, *, field_map: Mapping[str, str | None] | None = None
) -> None:
    """Issue 13.3: a service's or a rule's problems found from the fields that did validate, put
    beside the field errors of the same submission, so one pass lists them all. A field that
    already shows its own error does not get a second one about the same value."""
    field_map = field_map or {}
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    for problem in problems:
        target = _form_field_for(form, problem.field, field_map)
        if target is not None and target not in form.fields:
            target = None
        if target is not None and form.has_error(target):
            continue
        message = problem_message(problem)
        if message not in form.errors.get(target or NON_FIELD_ERRORS, ()):
            form.add_error(target, message)


PAGE_SIZE = 50
MAX_PAGE_SIZE = 500  # as the REST API's core.api.pagination.StandardPagination


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """The page of ``queryset`` the request asks for (``?page=``), ``per_page`` rows or as many
    as ``?page_size=`` says (1 … 500), like the REST API's lists. The count stops at
    core.pagination.COUNT_CAP (``page.paginator.capped`` says when it did)."""
    from core.pagination import CappedPaginator

    try:
        size = min(max(int(request.GET.get("page_size", per_page)), 1), MAX_PAGE_SIZE)
    except (TypeError, ValueError):
        size = per_page
    return CappedPaginator(queryset, size).get_page(request.GET.get("page"))


def run_upload(form: forms.BaseForm, run):
    """Run ``run()``, an all-or-nothing import of the form's file, and say how it went as
    (created, row errors, status): (what ``run`` made, None, 200); (None, every bad row, 400);
    or (None, None, 4xx) with the file's or the rule's problem put on the form."""
    from core.bulk import BulkRejected, ImportRefused

    try:
        return run(), None, 200
    except ImportRefused as exc:
        form.add_error("file", exc.message)
        return None, None, 400
    except BulkRejected as exc:
        return None, [e.as_dict() for e in exc.errors], 400
    except RuleViolation as exc:
        add_rule_violation(form, exc)
        return None, None, exc.status_code


class _Strings(forms.Field):
    """Any number of hidden strings, kept as sent."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


class ConfirmRenamesForm(forms.Form):
    """A bulk upload's second pass: the borrower renames the first pass listed (old → new), sent
    back exactly as shown, and the box the uploader ticks to confirm them. Only a change both
    listed and ticked is applied (core.bulk.unconfirmed_renames)."""

    renames = _Strings(required=False)
    confirm_renames = forms.BooleanField(
        required=False, label=gettext_lazy("Confirm these changes: rename the borrowers as listed above"))

    def confirmed_renames(self) -> set[str]:
        if not self.cleaned_data.get("confirm_renames"):
            return set()
        return set(self.cleaned_data.get("renames") or ())


def renames_of(errors: list[dict] | None) -> list[dict]:
    """The distinct borrower renames among an upload's row errors, for the confirmation list."""
    found: dict[str, dict] = {}
    for error in errors or ():
        rename = error.get("rename")
        if rename:
            found.setdefault(rename["key"], {**rename, "rows": []})["rows"].append(error["row"])
    return list(found.values())


# --- confirm, then act ---------------------------------------------------------------------------
# A step that cannot be undone (a payment, a ledger entry, a decision) takes two POSTs: the first
# validates and shows what will happen (core/confirm.html), the second, with ``confirmed=1`` and
# the first POST's fields carried as hidden inputs, does it.

_NOT_CARRIED = ("csrfmiddlewaretoken", "confirmed", "refresh")


def is_confirmed(request) -> bool:
    return request.POST.get("confirmed") == "1"


def carried_fields(request) -> list[tuple[str, str]]:
    """The POST as hidden fields for the confirmation page's second POST."""
    return [(k, v) for k, vs in request.POST.lists() if k not in _NOT_CARRIED for v in vs]


def confirm_page(request, *, title, action: str, cancel: str, facts=(), lines=(), warning=None, button=None,
                 danger: bool = True, template: str = "core/confirm.html", **context):
    """The confirmation page of a confirm-then-act step: ``facts`` as (label, value) rows and
    ``lines`` as paragraphs say what will happen; ``warning`` (or, for a ``danger`` step, "This
    cannot be undone.") says why to look twice. ``template`` extends core/confirm.html when the
    step needs a body of its own; ``context`` reaches it."""
    return render(request, template, {
        "title": title, "action": action, "cancel": cancel, "facts": facts, "lines": lines, "warning": warning,
        "button": button, "danger": danger, "hidden": carried_fields(request), **context,
    })
