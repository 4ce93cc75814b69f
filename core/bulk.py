"""Bulk creation, all or nothing: every bad row is reported, and one bad row saves nothing."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Problem, RuleViolation


@dataclass
class RowError:
    row: int
    column: str | None
    rule: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "rule": self.rule, "message": str(self.message)}


class BulkRejected(RuleViolation):
    """A bulk file with any bad row: nothing is saved, every error is listed."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(
            errors[0].rule, errors[0].message, errors[0].column,
            problems=[Problem(e.rule, _("Row %(row)s: %(message)s") % {"row": e.row, "message": e.message}, e.column)
                      for e in errors],
        )


def create_all_or_none(rows: Iterable[dict], create: Callable[[dict], object]) -> list:
    """Call ``create(row)`` for every row, inside the caller's transaction.

    A row is ``{"row": n, …}``, or ``{"row": n, "errors": [RowError…]}`` when the file parser
    could not read it. A RuleViolation from ``create`` becomes that row's errors, and the rows
    after it are still checked, so the person sees every problem at once; any error raises
    BulkRejected, which rolls the caller's transaction back.
    """
    errors: list[RowError] = []
    created = []
    for row in rows:
        if row.get("errors"):
            errors.extend(row["errors"])
            continue
        try:
            # A savepoint per row, so one bad row does not poison the others' checks.
            with transaction.atomic():
                created.append(create(row))
        except RuleViolation as exc:
            errors.extend(RowError(row["row"], p.field, p.rule, p.message) for p in exc.problems)
    if errors:
        raise BulkRejected(errors)
    return created


class ImportRefused(Exception):
    """An uploaded file as a whole cannot be read (wrong type, too big, too many rows, no header)."""

    def __init__(self, message: str):
        self.message = str(message)
        super().__init__(self.message)
