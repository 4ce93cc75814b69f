"""The one error type that services and rules raise for a broken policy rule or bad input.

Views and the DRF exception handler turn it into a 400 (or 409) whose body names the rule,
the field and a message in the user's language.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One broken rule: its id (``GU-1``), the input field it is about, and a message."""

    rule: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "field": self.field, "message": str(self.message)}

    def stored(self) -> dict:
        """``as_dict`` for a JSON column: the message as its msgid and parameters, so it reads
        in the language of whoever looks at it later (core.i18n_text)."""
        from core.i18n_text import dump

        return {"rule": self.rule, "field": self.field, "message": dump(self.message)}


class RuleViolation(Exception):
    """Raised when input cannot be accepted; carries one or more problems."""

    status_code = 400

    def __init__(self, rule: str, message, field: str | None = None, *, problems=None):
        self.problems: list[Problem] = list(problems or [Problem(rule, message, field)])
        first = self.problems[0]
        super().__init__(f"{first.rule}: {first.message}")

    @classmethod
    def many(cls, problems: list[Problem]) -> RuleViolation:
        return cls(problems[0].rule, problems[0].message, problems[0].field, problems=problems)

    @property
    def rule(self) -> str:
        return self.problems[0].rule

    @property
    def field(self) -> str | None:
        return self.problems[0].field

    @property
    def message(self) -> str:
        return str(self.problems[0].message)


class Conflict(RuleViolation):
    """The request is valid but clashes with the current state (a workflow step already taken)."""

    status_code = 409
