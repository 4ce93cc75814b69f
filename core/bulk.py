"""Bulk creation, all or nothing: every bad row is reported, and one bad row saves nothing."""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Problem, RuleViolation
from core.i18n_text import dump


@dataclass(frozen=True)
class Rename:
    """An upload row naming a borrower already on record (same identifier) by another name."""

    id_number: str
    old: str
    new: str

    @property
    def key(self) -> str:
        """What the confirmation form sends back: the change exactly as it was shown."""
        return f"{self.id_number}\t{self.new}"

    def as_dict(self) -> dict:
        return {"id_number": self.id_number, "old": self.old, "new": self.new, "key": self.key}


@dataclass
class RowError:
    row: int
    column: str | None
    rule: str
    message: str
    rename: Rename | None = field(default=None)

    def as_dict(self) -> dict:
        found = {"row": self.row, "column": self.column, "rule": self.rule, "message": str(self.message)}
        if self.rename is not None:
            found["rename"] = self.rename.as_dict()
        return found

    def stored(self) -> dict:
        """``as_dict`` to keep (an upload run's errors): a rule's message as its msgid and values,
        read in each viewer's language (issue 13.1)."""
        return {**self.as_dict(), "message": dump(self.message)}


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


def unconfirmed_renames(rows: Iterable[dict], existing: Mapping[str, str], confirmed: Collection[str],
                        memory: dict[str, str] | None = None) -> list[RowError]:
    """A later upload never renames a borrower silently: every row whose borrower identifier is
    on record (``existing``: identifier → name) or earlier in the file under another name is a
    row error carrying the change, unless that exact change (``Rename.key``) is in ``confirmed``,
    the changes the uploader saw listed and ticked to confirm. ``memory``, when given, is updated
    with the names the rows settle, for the next chunk of the same file."""
    names = {code.upper(): name for code, name in existing.items()}
    errors = []
    for row in rows:
        borrower = row.get("borrower")
        if borrower is None:
            continue
        code = borrower.id_number.upper()
        old = names.get(code)
        if old is None:
            names[code] = borrower.name
            continue
        if old == borrower.name:
            continue
        rename = Rename(code, old, borrower.name)
        if rename.key in confirmed:
            names[code] = borrower.name
            continue
        errors.append(RowError(
            row["row"], "borrower.name", "INPUT",
            _("The borrower %(code)s is on record as “%(old)s”, but this row names it “%(new)s”. Nothing is "
              "renamed unless you confirm the change below.") % {"code": code, "old": old, "new": borrower.name},
            rename=rename,
        ))
    if memory is not None:
        memory.update(names)
    return errors


def create_all_or_none_confirming_renames(
    rows: list[dict], create: Callable[[dict], object], *, existing: Mapping[str, str], confirmed: Collection[str],
) -> list:
    """``create_all_or_none`` that also refuses every unconfirmed rename (``unconfirmed_renames``),
    listing those errors with the others in row order; inside the caller's transaction."""
    renames = unconfirmed_renames(rows, existing, confirmed)
    try:
        created = create_all_or_none(rows, create)
    except BulkRejected as exc:
        raise BulkRejected(sorted([*exc.errors, *renames], key=lambda e: e.row)) from None
    if renames:
        raise BulkRejected(renames)
    return created


class ImportRefused(Exception):
    """An uploaded file as a whole cannot be read (wrong type, too big, too many rows, no header)."""

    def __init__(self, message: str):
        self.stored = dump(message)  # kept by an upload run, read in each viewer's language
        self.message = str(message)
        super().__init__(self.message)
