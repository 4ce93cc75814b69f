"""Validators for identifiers used across apps."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the code's alphabet (no I, O, Z, S, V) and the weights of positions 1–17.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015, mod 31)."""
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if not isinstance(code, str) or len(code) != 18:
        return str(_("A unified social credit code has 18 characters."))
    code = code.upper()
    bad = [ch for ch in code if ch not in CREDIT_CODE_ALPHABET]
    if bad:
        return str(_("Character “%(ch)s” is not allowed in a unified social credit code.") % {"ch": bad[0]})
    if credit_code_check_character(code[:17]) != code[17]:
        return str(_("The check character of the unified social credit code is wrong (GB 32100-2015)."))
    return None


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(problem, code="credit_code")


# GB 11643-1999: 18-digit resident identity number, weights and check characters.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_problem(number: str) -> str | None:
    if not isinstance(number, str) or len(number) != 18 or not number[:17].isdigit():
        return str(_("A resident identity number has 18 characters, the first 17 digits."))
    total = sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK[total % 11] != number[17].upper():
        return str(_("The check character of the identity number is wrong (GB 11643-1999)."))
    return None
