"""Scheme S ends on 2028-08-10 (seed 004 第三十四条: 有效期至2028年8月10日); a date outside every
rule set is a RULESET error naming the covered range (issue 11 point 12)."""
from datetime import date

import pytest

from core.errors import RuleViolation
from core.models import RuleSet
from riskpool.services import scheme_s_params
from tests.riskpool.factories import World

pytestmark = pytest.mark.django_db


def test_ruleset_scheme_s_shipped_set_ends_2028_08_10():
    shipped = RuleSet.objects.get(scheme="riskpool_s", effective_from=date(2023, 8, 10))
    assert shipped.effective_to == date(2028, 8, 10)


def test_ruleset_scheme_s_applies_on_its_first_and_last_day():
    assert scheme_s_params(date(2023, 8, 10)).entry_working_day == 15
    assert scheme_s_params(date(2028, 8, 10)).entry_working_day == 15


@pytest.mark.parametrize("on", [date(2023, 8, 9), date(2028, 8, 11)])
def test_ruleset_scheme_s_outside_its_range_is_a_clear_error(on):
    with pytest.raises(RuleViolation) as info:
        scheme_s_params(on)
    assert info.value.rule == "RULESET"
    assert on.isoformat() in info.value.message
    assert "2023-08-10 to 2028-08-10" in info.value.message


def test_ruleset_loan_disbursed_after_scheme_s_ends_is_refused_naming_the_range():
    world = World()
    with pytest.raises(RuleViolation) as info:
        world.register(loan_no="LATE", disbursed_on=date(2028, 8, 11), maturity_on=date(2029, 8, 10),
                       entered_on=date(2028, 8, 12))
    assert info.value.rule == "RULESET" and "2028-08-10" in info.value.message
    world.register(loan_no="LAST", disbursed_on=date(2028, 8, 10), maturity_on=date(2029, 8, 9),
                   entered_on=date(2028, 8, 10))
