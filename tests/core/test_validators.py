"""Identifier validators: GB 32100-2015 unified social credit codes, GB 11643-1999 identity numbers."""
import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.validators import (
    credit_code_check_character,
    credit_code_problem,
    id_number_problem,
    validate_credit_code,
)


@pytest.fixture(autouse=True)
def _english():
    # The assertions read the English messages; the default language is zh-hans.
    with translation.override("en"):
        yield


# Real-world codes; each check character was recomputed (see the worked example below).
VALID_CREDIT_CODES = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T", "914403001922038216"]


def test_gb32100_check_character_worked_example():
    # 9 1 3 5 0 1 0 0 M(21) 0 0 0 1 0 0 Y(30) 4 weighted by 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
    # = 9+3+27+135+26+420+8+900+112 = 1640; 1640 mod 31 = 28; 31 - 28 = 3 → "3".
    assert credit_code_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_gb32100_real_codes_are_valid(code):
    assert credit_code_problem(code) is None
    validate_credit_code(code)


@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_gb32100_wrong_check_character_is_refused(code):
    wrong = "0" if code[-1] != "0" else "1"
    assert "check character" in credit_code_problem(code[:17] + wrong)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_gb32100_letters_outside_the_alphabet_are_refused(letter):
    code = "91350100M000100Y4" + letter
    assert letter in credit_code_problem(code)


def test_gb32100_punctuation_is_refused():
    assert credit_code_problem("91350100M000100-43") is not None


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", None, 91350100])
def test_gb32100_wrong_length_or_type_is_refused(code):
    assert "18 characters" in credit_code_problem(code)


def test_gb32100_validator_raises_validation_error():
    with pytest.raises(ValidationError) as info:
        validate_credit_code("91350100M000100Y44")
    assert info.value.code == "credit_code"


@pytest.mark.parametrize("number", ["11010519491231002X", "11010519491231002x", "440308199901011234", "110101199003074573"])
def test_gb11643_valid_identity_numbers(number):
    assert id_number_problem(number) is None


def test_gb11643_wrong_check_character_is_refused():
    assert "check character" in id_number_problem("110105194912310021")


@pytest.mark.parametrize("number", ["", "11010519491231002", "11010519491231002X1", "1101051949123100AX", None])
def test_gb11643_wrong_shape_is_refused(number):
    assert "18 characters" in id_number_problem(number)
