"""Tests of the pure risk-pool rules (RP-1 … RP-25, RP-M1 … RP-M6): no database, boundaries and
properties. Working days come from a pure fake calendar on the ``chinese_calendar`` package, the
same source ``core.calendar`` uses (which also reads the authority's overrides from the database)."""

from contextlib import contextmanager
from datetime import date, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import chinese_calendar
import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

import core.calendar
from core.calendar import Deadline
from core.errors import Conflict, RuleViolation
from core.periods import add_months
from riskpool import rules
from riskpool.rules import (
    ALLOWED_TRANSITIONS,
    CLAIM_STATES,
    FAIL,
    INFO,
    NOT_CHECKED,
    PASS,
    TERMINAL_STATES,
    BankYear,
    Qualification,
    QuoteInput,
    SchemeMParams,
    SchemeSParams,
    SubFund,
    auto_close_on,
    base_ratio,
    check_borrower,
    check_may_submit,
    check_transition,
    claim_deadline,
    claim_deadlines,
    clawback_interest,
    closure_review_due,
    compensation_amount,
    compensation_ratio,
    competition_ranks,
    credit_report_current,
    documents_due,
    entry_deadline,
    entry_rule_date,
    evaluate_banks,
    feature_bonus,
    growth,
    lpr_term,
    m_exclusions,
    m_ratio,
    m_reimbursement,
    m_report_due,
    m_return,
    m_return_due,
    m_sub_fund,
    mask_credit_code,
    may_reapply_on,
    may_submit,
    next_step_due,
    normal_closure_due,
    notice_end,
    notice_may_proceed_on,
    npl_gate_open,
    npl_ratio,
    payable_in_order,
    payment_due,
    payout_fits,
    payout_fits_queue,
    product_suspended,
    qualification_bonus,
    quote,
    rate_allowed,
    rate_limit,
    ratio_rule_date,
    re_review_due,
    recovery_report_due,
    recovery_return,
    review_due,
    revoked,
    settlement_application_due,
    total_balance,
    transfer_due,
    transition_allowed,
    upgrade_application_due,
    upgrade_return,
    within_size_limit,
    yuan_of,
)

S = SchemeSParams()
M = SchemeMParams()


class ChineseCalendar:
    """JB-1 without the database: ``chinese_calendar`` for the years it knows, Monday–Friday
    (provisional) for the others. Same contract as ``core.calendar`` without overrides."""

    @staticmethod
    def _known(year):
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, d):
        return chinese_calendar.is_workday(d) if self._known(d.year) else d.weekday() < 5

    def working_day_deadline(self, d, n):
        if n == 0:
            return Deadline(d, not self._known(d.year))
        provisional = False
        while n:
            d += timedelta(days=1)
            provisional = provisional or not self._known(d.year)
            if self.is_working_day(d):
                n -= 1
        return Deadline(d, provisional)

    def nth_working_day_of_quarter(self, year, quarter, n):
        return self.working_day_deadline(date(year, 3 * quarter - 2, 1) - timedelta(days=1), n).date


CAL = ChineseCalendar()
LPR = {"1y": D("3.45"), "5y": D("3.95")}  # in force on 2024-05-10 (spec/data/lpr.csv)

EXAMPLE = {
    "loan_kind": "enterprise",
    "principal": "3000000.00",
    "currency": "CNY",
    "disbursed_on": "2024-05-10",
    "maturity_on": "2025-05-09",
    "annual_rate": "0.0420",
    "other_balance": "1500000.00",
    "qualifications": [{"code": "high_tech", "valid_from": "2023-01-01", "valid_to": "2025-12-31"}],
    "features": ["pure_credit"],
    "purpose": "operations",
    "covered_by_other_scheme": False,
    "entered_on": "2024-06-01",
    "npl_on": "2025-03-03",
    "outstanding_principal": "2400000.00",
    "submitted_on": "2025-04-01",
    "credit_report_on": "2025-03-25",
}


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in their English source text, whatever the default language."""
    with translation.override("en"):
        yield


@contextmanager
def raises_rule(rule, field=None):
    with pytest.raises(RuleViolation) as info:
        yield info
    assert info.value.rule == rule
    if field is not None:
        assert info.value.field == field


def run_quote(special_ratio=None, rate_to_yuan=None, lpr=None, params=S, **changes):
    data = {**EXAMPLE, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    return quote(
        QuoteInput.from_mapping(data),
        params=params,
        lpr_percent=LPR if lpr is None else lpr,
        calendar=CAL,
        special_ratio=special_ratio,
        rate_to_yuan=rate_to_yuan,
    )


def reason(result, rule):
    found = [r for r in result.reasons if r.rule == rule]
    assert len(found) == 1, f"{rule}: {found}"
    return found[0]


# --- JB-1 calendar, parameters -------------------------------------------------------------


def test_jb1_fake_calendar_gives_the_spec_examples():
    assert CAL.working_day_deadline(date(2024, 9, 27), 5) == Deadline(date(2024, 10, 10), False)
    assert CAL.nth_working_day_of_quarter(2024, 3, 15) == date(2024, 7, 19)
    assert CAL.is_working_day(date(2024, 9, 29)) and not CAL.is_working_day(date(2024, 10, 1))
    assert CAL.working_day_deadline(date(2026, 12, 30), 2) == Deadline(date(2027, 1, 1), True)


def test_jb1_core_calendar_and_the_fake_fit_the_protocol():
    assert isinstance(core.calendar, rules.WorkingDayCalendar)
    assert isinstance(CAL, rules.WorkingDayCalendar)


def test_params_defaults_are_the_shipped_policy_values():
    assert S.pool_size == D("5000000000")
    assert S.enterprise_balance_cap == D("30000000") and S.household_credit_cap == D("10000000")
    assert S.tiers == ((D("5000000"), D("0.4")), (D("15000000"), D("0.3")), (D("30000000"), D("0.2")))
    assert (S.qualification_bonus, S.feature_bonus, S.ratio_cap) == (D("0.1"), D("0.1"), D("0.5"))
    assert (S.entry_working_day, S.claim_window_months, S.credit_report_working_days) == (15, 3, 10)
    assert S.lpr_spread == D("0.02") and S.npl_gate == D("0.03")
    assert (S.review_days, S.notice_working_days, S.documents_days, S.payment_days) == (30, 7, 3, 10)
    assert (S.transfer_working_days, S.upgrade_working_days, S.recovery_report_working_days) == (15, 15, 15)
    assert (S.closure_review_days, S.normal_closure_months, S.auto_closure_months) == (30, 3, 6)
    assert (S.evaluation_volume_top, S.evaluation_growth_excellent_top, S.evaluation_growth_good_top) == (
        D("0.6"),
        D("0.15"),
        D("0.3"),
    )
    assert (M.ratio_in_system, M.ratio_outside_system, M.suspension_rate, M.suspension_usage) == (
        D("0.4"),
        D("0.2"),
        D("0.04"),
        D("0.7"),
    )
    assert sum(fund.size for fund in M.sub_funds) == D("65000000")
    assert M.return_days == 30


def test_params_round_trip_through_json_ready_mapping():
    import json

    for params in (SchemeSParams(ratio_cap=D("0.450000")), SchemeMParams(return_days=20)):
        mapping = json.loads(json.dumps(params.as_mapping()))
        assert type(params).from_mapping(mapping) == params


def test_params_from_mapping_parses_ignores_unknown_and_keeps_missing():
    params = SchemeSParams.from_mapping(
        {"ratio_cap": "0.6", "tiers": [["4000000", "0.45"], [30000000, "0.25"]], "review_days": "20", "x": 1}
    )
    assert params.ratio_cap == D("0.600000") and params.review_days == 20
    assert params.tiers == ((D("4000000.00"), D("0.450000")), (D("30000000.00"), D("0.250000")))
    assert params.npl_gate == D("0.03")


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("ratio_cap", "1.5", "RP-11"),
        ("tiers", [["15000000", "0.3"], ["5000000", "0.4"]], "RP-8"),
        ("review_days", -1, "RP-16"),
        ("review_days", True, "RP-16"),
        ("feature_codes", "green", "RP-10"),
    ],
)
def test_params_out_of_range_are_refused_with_their_rule(key, value, rule):
    with raises_rule(rule, key):
        SchemeSParams.from_mapping({key: value})


def test_params_m_products_in_two_sub_funds_are_refused():
    funds = [{"code": "a", "size": "1", "products": ["export"]}, {"code": "b", "size": "1", "products": ["export"]}]
    with raises_rule("RP-M2", "sub_funds"):
        SchemeMParams.from_mapping({"sub_funds": funds})


# --- RP-1 … RP-5 ---------------------------------------------------------------------------


def test_rp1_payout_never_makes_the_balance_negative():
    assert payout_fits("1000.00", "1000.00")
    assert not payout_fits("1000.00", "1000.01")


def test_rp1_queue_sets_aside_what_earlier_approvals_wait_for():
    assert payout_fits_queue("1000.00", "400.00", "600.00")  # exactly what is left after the queue
    assert not payout_fits_queue("1000.00", "400.01", "600.00")
    assert payout_fits_queue("1000.00", "0", "1000.00")


def test_rp1_payable_in_order_never_lets_a_later_claim_jump_the_queue():
    assert payable_in_order("1000.00", ["600.00", "400.00", "1.00"]) == [True, True, False]
    # the second does not fit, so the small third waits behind it although it would fit
    assert payable_in_order("1000.00", ["600.00", "500.00", "100.00"]) == [True, False, False]
    assert payable_in_order("0", []) == []


def test_rp2_borrower_checks():
    ok = dict(operates_in_city=True, restricted_industry=False, finance_or_real_estate=False)
    assert check_borrower(loan_kind="enterprise", enterprise_size="micro", **ok).outcome == PASS
    assert check_borrower(loan_kind="enterprise", enterprise_size="large", **ok).outcome == FAIL
    assert check_borrower(loan_kind="enterprise", enterprise_size=None, **ok).outcome == NOT_CHECKED
    bad = check_borrower(
        loan_kind="enterprise",
        enterprise_size="small",
        operates_in_city=False,
        restricted_industry=True,
        finance_or_real_estate=True,
    )
    assert bad.outcome == FAIL and "real estate" in bad.message and "operate in the city" in bad.message
    assert check_borrower(loan_kind="owner", enterprise_size=None, **ok).outcome == PASS


@pytest.mark.parametrize(
    ("kind", "balance", "ok"),
    [
        ("enterprise", "30000000.00", True),
        ("enterprise", "30000000.01", False),
        ("owner", "10000000.00", True),
        ("owner", "10000000.01", False),
        ("individual_business", "10000000.00", True),
        ("individual_business", "10000000.01", False),
    ],
)
def test_rp3_size_limit_is_inclusive(kind, balance, ok):
    assert within_size_limit(kind, D(balance)) is ok


def test_rp3_quote_enterprise_at_exactly_30m_is_eligible_and_above_is_not():
    at = run_quote(other_balance="27000000.00")
    assert at.eligible and reason(at, "RP-3").outcome == PASS and at.ratio == D("0.400000")  # 20 + 10 + 10
    above = run_quote(other_balance="27000000.01")
    assert not above.eligible
    assert reason(above, "RP-3").outcome == FAIL and "30,000,000.00" in reason(above, "RP-3").message


def test_rp3_quote_owner_loan_uses_the_household_limit():
    assert run_quote(loan_kind="owner", other_balance="7000000.00").eligible
    refused = run_quote(loan_kind="owner", other_balance="7000000.01")
    assert not refused.eligible and reason(refused, "RP-3").outcome == FAIL


def test_rp4_total_balance_adds_this_loan():
    assert total_balance("1500000", "3000000") == D("4500000.00")


def test_rp4_credit_report_exactly_10_working_days_before_is_accepted():
    submitted = date(2025, 4, 1)
    assert CAL.working_day_deadline(date(2025, 3, 18), 10).date == submitted
    assert credit_report_current(date(2025, 3, 18), submitted, calendar=CAL)
    assert not credit_report_current(date(2025, 3, 17), submitted, calendar=CAL)  # 11 working days
    assert credit_report_current(submitted, submitted, calendar=CAL)
    assert not credit_report_current(date(2025, 4, 2), submitted, calendar=CAL)  # after the claim


def test_rp4_quote_stale_credit_report_fails_and_absent_one_is_not_checked():
    stale = run_quote(credit_report_on="2025-03-17")
    assert not stale.eligible and reason(stale, "RP-4").outcome == FAIL
    assert run_quote(credit_report_on="2025-03-18").eligible
    absent = run_quote(credit_report_on=None)
    assert absent.eligible and reason(absent, "RP-4").outcome == NOT_CHECKED
    assert "4,500,000.00" in reason(absent, "RP-4").message


def test_rp5_foreign_currency_converted_at_the_given_rate():
    assert yuan_of("100000.00", "USD", D("7.1234")) == D("712340.00")
    assert yuan_of("100.00", "CNY", None) == D("100.00")
    with raises_rule("RP-5", "currency"):
        yuan_of("100.00", "USD", None)


def test_rp5_quote_in_dollars_converts_principal_and_outstanding():
    result = run_quote(currency="usd", principal="400000.00", outstanding_principal="300000.00", rate_to_yuan=D("7.5"))
    assert result.total_balance == D("4500000.00")  # 1,500,000 + 400,000 × 7.5
    assert result.amount == D("1125000.00")  # 50% × 300,000 × 7.5
    assert reason(result, "RP-5").outcome == INFO
    with raises_rule("RP-5"):
        run_quote(currency="USD")


# --- RP-6 entry ----------------------------------------------------------------------------


def test_rp6_entry_deadline_is_the_15th_working_day_of_the_next_quarter():
    assert entry_deadline(date(2024, 5, 10), calendar=CAL) == Deadline(date(2024, 7, 19), False)
    assert entry_deadline(date(2024, 4, 1), calendar=CAL).date == date(2024, 7, 19)
    assert entry_deadline(date(2024, 6, 30), calendar=CAL).date == date(2024, 7, 19)
    # Q3 2024: the National Day week and the Saturday 2024-10-12 (调休) count as they should.
    assert entry_deadline(date(2024, 9, 30), calendar=CAL).date == date(2024, 10, 25)
    assert CAL.nth_working_day_of_quarter(2024, 4, 15) == date(2024, 10, 25)
    assert entry_deadline(date(2026, 12, 1), calendar=CAL).provisional


def test_rp6_entry_on_the_15th_working_day_allowed_the_next_day_refused():
    on_time = run_quote(entered_on="2024-07-19")
    assert on_time.eligible and reason(on_time, "RP-6").outcome == PASS
    late = run_quote(entered_on="2024-07-20")
    assert not late.eligible
    assert reason(late, "RP-6").outcome == FAIL and "2024-07-19" in reason(late, "RP-6").message


def test_rp6_entry_before_disbursement_refused():
    assert reason(run_quote(entered_on="2024-05-09"), "RP-6").outcome == FAIL
    assert run_quote(entered_on="2024-05-10").eligible


def test_rp6_npl_before_entry_never_compensated_same_day_is_after():
    before = run_quote(
        entered_on="2024-07-19", npl_on="2024-07-18", submitted_on="2024-08-01", credit_report_on="2024-07-25"
    )
    assert not before.eligible and "before it was entered" in reason(before, "RP-6").message
    same_day = run_quote(
        entered_on="2024-07-19", npl_on="2024-07-19", submitted_on="2024-08-01", credit_report_on="2024-07-25"
    )
    assert same_day.eligible


def test_rp6_absent_entry_date_is_not_checked():
    result = run_quote(entered_on=None)
    assert result.eligible and reason(result, "RP-6").outcome == NOT_CHECKED
    assert result.entry_deadline == date(2024, 7, 19)


# --- RP-7 exclusions -----------------------------------------------------------------------


def test_rp7_rate_at_exactly_lpr_plus_200bp_allowed_one_bp_above_refused():
    assert rate_limit(D("3.45")) == D("0.0545")
    assert rate_allowed(D("0.0545"), D("3.45"))
    assert not rate_allowed(D("0.0546"), D("3.45"))
    assert run_quote(annual_rate="0.0545").eligible
    refused = run_quote(annual_rate="0.0546")
    assert not refused.eligible
    assert "5.46% exceeds the 1-year LPR of 3.45% + 2% = 5.45%" in reason(refused, "RP-7").message


def test_rp7_term_of_exactly_5_years_uses_the_1_year_lpr_longer_the_5_year():
    assert lpr_term(date(2024, 5, 10), date(2029, 5, 10)) == "1y"
    assert lpr_term(date(2024, 5, 10), date(2029, 5, 11)) == "5y"
    assert lpr_term(date(2024, 2, 29), date(2029, 2, 28)) == "1y"
    assert lpr_term(date(2024, 2, 29), date(2029, 3, 1)) == "5y"
    # 5.95% is within 3.95% + 2% but not within 3.45% + 2%.
    assert run_quote(maturity_on="2029-05-11", annual_rate="0.0595").eligible
    assert not run_quote(maturity_on="2029-05-10", annual_rate="0.0595").eligible


def test_rp7_lpr_may_be_given_as_the_terms_rate():
    assert run_quote(lpr=D("3.45"), annual_rate="0.0545").eligible
    assert not run_quote(lpr=D("3.45"), annual_rate="0.0546").eligible
    with raises_rule("RP-7", "lpr"):
        run_quote(lpr={"1y": D("3.45")}, maturity_on="2030-01-01")


def test_rp7_covered_loans_and_other_purposes_are_excluded():
    covered = run_quote(covered_by_other_scheme=True)
    assert not covered.eligible and "covered by another compensation policy" in reason(covered, "RP-7").message
    for purpose in S.excluded_purposes:
        assert reason(run_quote(purpose=purpose), "RP-7").outcome == FAIL
    both = reason(run_quote(purpose="consumption", covered_by_other_scheme=True, annual_rate="0.09"), "RP-7")
    assert both.message.count(";") == 2  # one reason for the rule, every problem in it


# --- RP-8 … RP-13 ratio and amount ---------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "expected"),
    [
        ("0.00", "0.40"),
        ("5000000.00", "0.40"),
        ("5000000.01", "0.30"),
        ("15000000.00", "0.30"),
        ("15000000.01", "0.20"),
        ("30000000.00", "0.20"),
        ("30000000.01", None),
    ],
)
def test_rp8_tier_boundaries(balance, expected):
    assert base_ratio(D(balance)) == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "bonus"),
    [
        (date(2024, 5, 10), date(2025, 1, 1), "0.1"),  # starts on the disbursement date
        (date(2020, 1, 1), date(2024, 5, 10), "0.1"),  # ends on it
        (date(2020, 1, 1), date(2024, 5, 9), "0"),  # ended the day before
        (date(2024, 5, 11), date(2025, 1, 1), "0"),  # starts the day after
        (None, None, "0.1"),  # open-ended
    ],
)
def test_rp9_qualification_valid_on_the_disbursement_date_at_both_ends(valid_from, valid_to, bonus):
    assert qualification_bonus([Qualification("high_tech", valid_from, valid_to)], date(2024, 5, 10)) == D(bonus)


def test_rp9_several_qualifications_still_give_10_points():
    several = [Qualification(code) for code in S.qualification_codes]
    assert qualification_bonus(several, date(2024, 5, 10)) == D("0.1")
    result = run_quote(
        other_balance="10000000.00",  # B 13,000,000: 30%
        features=[],
        qualifications=[{"code": "high_tech"}, {"code": "little_giant", "valid_to": "2030-01-01"}],
    )
    assert result.ratio == D("0.400000")


def test_rp10_several_features_still_give_10_points():
    assert feature_bonus(list(S.feature_codes)) == D("0.1")
    assert feature_bonus([]) == D("0")
    result = run_quote(other_balance="10000000.00", qualifications=[], features=["green", "pure_credit", "ip_pledge"])
    assert result.ratio == D("0.400000")
    assert reason(result, "RP-9").outcome == INFO and reason(result, "RP-10").outcome == PASS


def test_rp11_cap_at_50_percent():
    assert compensation_ratio(
        D("4500000"), disbursed_on=date(2024, 5, 10), qualifications=[Qualification("high_tech")], features=["green"]
    ) == D("0.5")
    assert compensation_ratio(
        D("20000000"), disbursed_on=date(2024, 5, 10), qualifications=[Qualification("high_tech")], features=["green"]
    ) == D("0.4")
    assert "capped at 50%" in reason(run_quote(), "RP-11").message


def test_rp12_special_list_ratio_replaces_the_computed_one():
    assert compensation_ratio(D("4500000"), disbursed_on=date(2024, 5, 10), special_ratio=D("0.6")) == D("0.6")
    higher = run_quote(special_ratio=D("0.6"))
    assert higher.ratio == D("0.600000") and higher.amount == D("1440000.00")
    assert reason(higher, "RP-12").outcome == INFO and "60%" in reason(higher, "RP-12").message
    lower = run_quote(special_ratio="0.15")
    assert lower.ratio == D("0.150000") and lower.amount == D("360000.00")
    with raises_rule("RP-12", "special_ratio"):
        run_quote(special_ratio="1.2")
    # The special list does not lift an exclusion.
    assert run_quote(special_ratio=D("0.6"), purpose="consumption").amount == D("0.00")


def test_rp13_amount_rounds_half_up_to_cents():
    assert compensation_amount(D("0.3"), "1000000.05") == D("300000.02")  # 300,000.015
    assert compensation_amount(D("0.5"), "2400000") == D("1200000.00")


# --- RP-14 claim window --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("npl_on", "deadline"),
    [
        (date(2025, 3, 3), date(2025, 6, 3)),
        (date(2024, 11, 30), date(2025, 2, 28)),  # clamped to February's end
        (date(2023, 11, 30), date(2024, 2, 29)),  # leap year
        (date(2024, 10, 31), date(2025, 1, 31)),
        (date(2024, 12, 31), date(2025, 3, 31)),
    ],
)
def test_rp14_claim_deadline_is_3_months_clamped(npl_on, deadline):
    assert claim_deadline(npl_on) == deadline


def test_rp14_claim_on_the_deadline_allowed_the_next_day_refused():
    on_time = run_quote(npl_on="2024-11-30", submitted_on="2025-02-28", credit_report_on="2025-02-20")
    assert on_time.eligible and on_time.claim_deadline == date(2025, 2, 28)
    late = run_quote(npl_on="2024-11-30", submitted_on="2025-03-01", credit_report_on="2025-02-20")
    assert not late.eligible
    assert reason(late, "RP-14").outcome == FAIL and "2025-02-28" in reason(late, "RP-14").message


def test_rp14_claim_before_the_npl_date_refused_and_absent_date_not_checked():
    assert reason(run_quote(submitted_on="2025-03-02", credit_report_on="2025-03-01"), "RP-14").outcome == FAIL
    absent = run_quote(submitted_on=None)
    assert absent.eligible
    assert reason(absent, "RP-14").outcome == NOT_CHECKED and reason(absent, "RP-4").outcome == NOT_CHECKED


# --- the quote -----------------------------------------------------------------------------


def test_rp8_to_rp17_worked_example_end_to_end():
    result = run_quote()
    assert result.as_dict() | {"reasons": []} == {
        "eligible": True,
        "ratio": "0.500000",
        "amount": "1200000.00",
        "claim_deadline": "2025-06-03",
        "entry_deadline": "2024-07-19",
        "entry_deadline_provisional": False,
        "entry_deadline_latest": "2024-07-19",
        "reasons": [],
    }
    assert [r.rule for r in result.reasons] == [
        "RP-3",
        "RP-4",
        "RP-6",
        "RP-7",
        "RP-8",
        "RP-9",
        "RP-10",
        "RP-11",
        "RP-12",
        "RP-13",
        "RP-14",
    ]
    assert all(r.outcome in (PASS, INFO) for r in result.reasons)
    assert "base ratio 40%" in reason(result, "RP-8").message
    assert reason(result, "RP-10").message == "Loan feature (pure credit (纯信用)): +10 percentage points."
    assert "1,200,000.00" in reason(result, "RP-13").message
    assert not result.entry_deadline_provisional
    assert recovery_return("800000", result.ratio, result.amount, "0") == D("400000.00")


def test_quote_ineligible_has_zero_ratio_and_amount_and_a_fail_for_every_failing_rule():
    result = run_quote(
        other_balance="28000000.00",  # B 31,000,000: RP-3 and RP-8
        credit_report_on="2025-03-01",  # RP-4
        entered_on="2024-08-01",  # RP-6
        annual_rate="0.08",  # RP-7
        submitted_on="2025-06-04",  # RP-14
    )
    assert result.as_dict()["eligible"] is False
    assert result.as_dict()["ratio"] == "0.000000" and result.as_dict()["amount"] == "0.00"
    failing = [r.rule for r in result.reasons if r.outcome == FAIL]
    assert failing == ["RP-3", "RP-4", "RP-6", "RP-7", "RP-8", "RP-14"]
    assert "RP-3, RP-4, RP-6, RP-7, RP-8, RP-14" in reason(result, "RP-13").message
    assert all(set(r.as_dict()) == {"rule", "outcome", "message"} for r in result.reasons)


def test_quote_optional_fields_default():
    data = {
        k: v
        for k, v in EXAMPLE.items()
        if k
        in (
            "loan_kind",
            "principal",
            "disbursed_on",
            "maturity_on",
            "annual_rate",
            "other_balance",
            "npl_on",
            "outstanding_principal",
        )
    }
    parsed = QuoteInput.from_mapping(data)
    assert (parsed.currency, parsed.purpose, parsed.covered_by_other_scheme) == ("CNY", "operations", False)
    result = quote(parsed, params=S, lpr_percent=LPR, calendar=CAL)
    assert result.eligible and result.ratio == D("0.400000") and result.amount == D("960000.00")
    assert [r.rule for r in result.reasons if r.outcome == NOT_CHECKED] == ["RP-4", "RP-6", "RP-14"]


@pytest.mark.parametrize(
    ("change", "rule", "field"),
    [
        ({"loan_kind": "bank"}, "RP-3", "loan_kind"),
        ({"purpose": "gambling"}, "RP-7", "purpose"),
        ({"qualifications": [{"code": "famous"}]}, "RP-9", "qualifications"),
        ({"features": ["cheap"]}, "RP-10", "features"),
        ({"maturity_on": "2024-05-10"}, "RP-7", "maturity_on"),
        ({"npl_on": "2024-05-09"}, "RP-14", "npl_on"),
        ({"outstanding_principal": "3000000.01"}, "RP-13", "outstanding_principal"),
        ({"principal": "0"}, "RP-4", "principal"),
        ({"other_balance": "-1"}, "RP-4", "other_balance"),
        ({"annual_rate": "abc"}, "RP-7", "annual_rate"),
        ({"entered_on": "2024-13-01"}, "RP-6", "entered_on"),
        ({"covered_by_other_scheme": "yes"}, "RP-7", "covered_by_other_scheme"),
        (
            {"qualifications": [{"code": "high_tech", "valid_from": "2025-01-01", "valid_to": "2024-01-01"}]},
            "RP-9",
            "qualifications",
        ),
    ],
)
def test_quote_input_that_cannot_be_computed_is_a_rule_violation(change, rule, field):
    with raises_rule(rule, field):
        run_quote(**change)


def test_quote_input_reports_every_bad_field_at_once():
    with pytest.raises(RuleViolation) as info:
        QuoteInput.from_mapping({**EXAMPLE, "principal": "x", "npl_on": "soon", "features": "green"})
    assert {p.field for p in info.value.problems} == {"principal", "npl_on", "features"}
    with pytest.raises(RuleViolation) as info:
        QuoteInput.from_mapping({"loan_kind": "enterprise"})
    assert "outstanding_principal" in {p.field for p in info.value.problems}


# --- RP-15 NPL gate ------------------------------------------------------------------------


def test_rp15_exactly_3_percent_is_open_above_is_held():
    assert npl_ratio("3000000.00", "100000000.00") == D("0.030000")
    assert npl_gate_open(npl_ratio("3000000.00", "100000000.00"))
    assert not npl_gate_open(npl_ratio("3000100.00", "100000000.00"))  # 3.0001%
    assert npl_ratio("0", "0") is None and npl_gate_open(None)
    assert npl_gate_open(D("0.040000"), SchemeSParams(npl_gate=D("0.05")))


# --- RP-16 workflow ------------------------------------------------------------------------


def test_rp16_states_and_transitions_are_closed():
    assert set(ALLOWED_TRANSITIONS) == set(CLAIM_STATES)
    assert all(targets <= set(CLAIM_STATES) for targets in ALLOWED_TRANSITIONS.values())
    assert TERMINAL_STATES == {"upgraded", "closed", "withdrawn"}
    reachable, todo = {"submitted"}, ["submitted"]
    while todo:
        for target in ALLOWED_TRANSITIONS[todo.pop()]:
            if target not in reachable:
                reachable.add(target)
                todo.append(target)
    assert reachable == set(CLAIM_STATES)


def test_rp16_main_line_and_the_three_endings():
    line = [
        "submitted",
        "approved",
        "on_notice",
        "notice_passed",
        "in_funding_plan",
        "documents_uploaded",
        "paid",
        "in_compensation_library",
    ]
    assert all(transition_allowed(a, b) for a, b in zip(line, line[1:], strict=False))
    # 8a and 8b go through the reviewer's decision; 8c through the authority and the finance bureau.
    upgrade = ["in_compensation_library", "upgrade_requested", "upgraded"]
    settlement = ["recovering", "settlement_requested", "settled", "closed"]
    closure = ["in_compensation_library", "closure_requested", "closure_reviewed", "closure_rechecked",
               "closure_approved", "closed"]
    for path in (upgrade, settlement, closure):
        assert all(transition_allowed(a, b) for a, b in zip(path, path[1:], strict=False)), path
    assert not transition_allowed("in_compensation_library", "upgraded")
    assert not transition_allowed("recovering", "settled")
    assert not transition_allowed("closure_rechecked", "closed")
    assert not transition_allowed("submitted", "paid")
    assert not transition_allowed("on_notice", "in_funding_plan")


def test_rp16_re_review_after_rejection_only_once():
    assert transition_allowed("rejected", "re_review", bank_re_reviews=0)
    assert not transition_allowed("rejected", "re_review", bank_re_reviews=1)
    assert transition_allowed("re_review", "rejected") and transition_allowed("re_review", "approved")
    with pytest.raises(Conflict) as info:
        check_transition("rejected", "re_review", bank_re_reviews=1)
    assert info.value.rule == "RP-16" and "only once" in info.value.message


def test_rp16_upheld_objection_goes_back_to_re_review():
    assert transition_allowed("on_notice", "objection_upheld")
    assert ALLOWED_TRANSITIONS["objection_upheld"] == {"re_review"}
    # an objection-led re-review does not use up the bank's own request
    assert transition_allowed("objection_upheld", "re_review", bank_re_reviews=1)


def test_rp16_held_claims_wait_for_the_gate():
    assert transition_allowed("submitted", "held_npl_gate")
    assert ALLOWED_TRANSITIONS["held_npl_gate"] == {"submitted", "withdrawn"}
    assert not transition_allowed("held_npl_gate", "approved")


def test_rp16_check_transition_refuses_with_both_states():
    with pytest.raises(Conflict) as info:
        check_transition("closed", "paid")
    assert "closed" in info.value.message and "paid" in info.value.message
    with raises_rule("RP-16", "state"):
        check_transition("submitted", "dancing")
    check_transition("submitted", "approved")


def test_rp16_calendar_day_deadlines():
    assert review_due(date(2025, 4, 1)) == date(2025, 5, 1)
    assert re_review_due(date(2025, 5, 10)) == date(2025, 6, 9)
    assert documents_due(date(2025, 6, 30)) == date(2025, 7, 3)
    assert payment_due(date(2025, 7, 3)) == date(2025, 7, 13)
    assert closure_review_due(date(2025, 1, 31)) == date(2025, 3, 2)


def test_rp16_notice_runs_7_working_days_after_its_start():
    # From Friday 2024-09-27: 29 (Sunday, 调休), 30, then 8-11 October and Saturday 12 (调休).
    assert notice_end(date(2024, 9, 27), calendar=CAL) == Deadline(date(2024, 10, 12), False)
    assert notice_may_proceed_on(date(2024, 9, 27), calendar=CAL) == date(2024, 10, 13)
    assert notice_end(date(2025, 6, 2), calendar=CAL).date == date(2025, 6, 11)  # Monday → next Wednesday


def test_rp16_working_day_deadlines():
    assert transfer_due(date(2024, 9, 27), calendar=CAL).date == CAL.working_day_deadline(date(2024, 9, 27), 15).date
    assert transfer_due(date(2024, 7, 1), calendar=CAL).date == date(2024, 7, 22)
    assert upgrade_application_due(date(2024, 7, 1), calendar=CAL).date == date(2024, 7, 22)
    assert settlement_application_due(date(2024, 7, 1), calendar=CAL).date == date(2024, 7, 22)
    # money received in Q2 2024 is reported by the 15th working day of Q3
    assert recovery_report_due(date(2024, 4, 1), calendar=CAL).date == date(2024, 7, 19)
    assert recovery_report_due(date(2024, 6, 30), calendar=CAL).date == date(2024, 7, 19)
    assert recovery_report_due(date(2024, 8, 15), calendar=CAL).date == CAL.nth_working_day_of_quarter(2024, 4, 15)
    assert recovery_report_due(date(2026, 11, 2), calendar=CAL).provisional


def test_rp16_next_step_due_names_who_owes_it():
    assert next_step_due("submitted", date(2025, 4, 1), calendar=CAL).owner == "reviewer"
    assert next_step_due("submitted", date(2025, 4, 1), calendar=CAL).due == date(2025, 5, 1)
    assert next_step_due("in_funding_plan", date(2025, 6, 30), calendar=CAL).owner == "bank"
    assert next_step_due("documents_uploaded", date(2025, 7, 3), calendar=CAL).owner == "treasurer"
    paid = next_step_due("paid", date(2024, 7, 1), calendar=CAL)
    assert (paid.owner, paid.due, paid.provisional) == ("bank", date(2024, 7, 22), False)
    assert next_step_due("closure_requested", date(2025, 1, 31), calendar=CAL).owner == "reviewer"
    assert next_step_due("closed", date(2025, 1, 31), calendar=CAL) is None
    assert next_step_due("on_notice", date(2025, 1, 31), calendar=CAL) is None


def test_rp16_claim_deadlines_for_every_known_start():
    assert claim_deadlines(calendar=CAL) == {}
    found = claim_deadlines(
        calendar=CAL,
        submitted_on=date(2025, 4, 1),
        notice_start=date(2024, 9, 27),
        plan_on=date(2025, 6, 30),
        recovery_received_on=date(2026, 11, 2),
        closure_applied_on=date(2025, 1, 31),
    )
    assert {step: (due.owner, due.due) for step, due in found.items()} == {
        "review": ("reviewer", date(2025, 5, 1)),
        "notice_end": ("public", date(2024, 10, 12)),
        "documents": ("bank", date(2025, 7, 3)),
        "recovery_report": ("bank", date(2027, 1, 21)),
        "closure_review": ("reviewer", date(2025, 3, 2)),
    }
    assert found["recovery_report"].provisional and not found["review"].provisional


# --- RP-17 returns -------------------------------------------------------------------------


def test_rp17_return_is_gross_times_ratio_never_above_what_remains():
    assert recovery_return("800000", "0.5", "1200000", "0") == D("400000.00")
    assert recovery_return("800000", "0.5", "1200000", "1000000") == D("200000.00")
    assert recovery_return("800000", "0.5", "1200000", "1200000") == D("0.00")
    assert recovery_return("0.01", "0.5", "10", "0") == D("0.01")  # 0.005 half up
    with raises_rule("RP-17", "returned_so_far"):
        recovery_return("1", "0.5", "10", "10.01")


def test_rp16_upgrade_returns_what_is_not_yet_returned():
    assert upgrade_return("1200000", "400000") == D("800000.00")


# --- RP-18, RP-19 --------------------------------------------------------------------------


def test_rp18_closure_dates():
    assert normal_closure_due(date(2024, 11, 30)) == date(2025, 2, 28)
    assert auto_close_on(date(2024, 5, 9)) == date(2024, 11, 10)
    assert auto_close_on(date(2024, 8, 31)) == date(2025, 3, 1)  # 28 February is the last day of the 6 months


def test_rp19_rule_set_dates():
    assert ratio_rule_date(date(2023, 8, 9)) == date(2023, 8, 9)
    assert entry_rule_date(date(2023, 8, 10)) == date(2023, 8, 10)


# --- RP-20 bank evaluation -----------------------------------------------------------------


def bank(id, amount, borrowers, prev_amount=None, prev_borrowers=None, violation=False):
    return BankYear(
        id, D(amount), borrowers, None if prev_amount is None else D(prev_amount), prev_borrowers, violation
    )


def grades(rows):
    return {g.id: g.grade for g in evaluate_banks(rows)}


def test_rp20_competition_ranks_share_the_best_rank():
    assert competition_ranks({"a": 9, "b": 7, "c": 7, "d": 5}) == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_rp20_preview_row_shape():
    rows = [
        BankYear.from_mapping(
            {
                "id": "B1",
                "amount": "900000000.00",
                "borrowers": 1200,
                "prev_amount": "750000000.00",
                "prev_borrowers": 1100,
                "violation": False,
            }
        )
    ]
    rows += [bank(f"X{i}", "100", 2000 + i, "100", 10) for i in range(19)]
    result = evaluate_banks(rows)[0]
    assert result.as_dict() == {
        "id": "B1",
        "growth": "0.200000",
        "ranks": {"amount": 1, "borrowers": 20, "growth": 1},
        "grade": "excellent",
    }


def test_rp20_twenty_banks_top_15_and_30_percent():
    # growth ranks 1..20; amount and borrowers equal, so everybody is in the top 60% (rank 1).
    rows = [bank(f"B{i:02}", 100 + i, 10, 100, 10) for i in range(20, 0, -1)]
    result = grades(rows)
    assert [result[f"B{i:02}"] for i in (20, 19, 18)] == ["excellent"] * 3  # rank ≤ 0.15 × 20 = 3
    assert [result[f"B{i:02}"] for i in (17, 16, 15)] == ["good"] * 3  # rank ≤ 6
    assert result["B14"] == "qualified"


def test_rp20_top_60_percent_on_amount_or_borrowers():
    # n = 10: top 60% is rank ≤ 6, top 15% rank ≤ 1.5, top 30% rank ≤ 3.
    rows = [
        bank("G", 50, 1, 10, 1),  # best growth (4.0) but last on amount and borrowers
        bank("H", 60, 100, 20, 1),  # second growth (2.0), first on borrowers only
        *(bank(f"O{i}", 100 + i, 10, 100, 10) for i in range(1, 9)),  # growth 0.01 … 0.08
    ]
    evaluated = {g.id: g for g in evaluate_banks(rows)}
    assert evaluated["G"].ranks == {"amount": 10, "borrowers": 10, "growth": 1}
    assert evaluated["G"].grade == "qualified"
    assert evaluated["H"].ranks == {"amount": 9, "borrowers": 1, "growth": 2}
    assert evaluated["H"].grade == "good"
    assert (evaluated["O8"].ranks["growth"], evaluated["O8"].grade) == (3, "good")
    assert (evaluated["O7"].ranks["growth"], evaluated["O7"].grade) == (4, "qualified")


def test_rp20_small_n_nobody_reaches_the_top_15_percent():
    rows = [bank("A", 500, 50, 100, 10), bank("B", 110, 11, 100, 10), bank("C", 100, 10, 100, 10)]
    assert grades(rows) == {"A": "qualified", "B": "qualified", "C": "qualified"}  # 0.15 × 3 < 1, 0.3 × 3 < 1
    rows.append(bank("D", 100, 10, 100, 10))  # n = 4: 0.3 × 4 = 1.2, so rank 1 is in the top 30%
    assert grades(rows)["A"] == "good"


def test_rp20_ties_share_the_growth_rank():
    rows = [bank(f"T{i}", 120, 10, 100, 10) for i in range(3)] + [bank(f"S{i}", 100, 10, 100, 10) for i in range(7)]
    evaluated = evaluate_banks(rows)
    assert {g.growth_rank for g in evaluated if g.id.startswith("T")} == {1}
    assert {g.growth_rank for g in evaluated if g.id.startswith("S")} == {4}
    # 0.15 × 10 = 1.5: the three tied at rank 1 are all excellent
    assert {g.grade for g in evaluated if g.id.startswith("T")} == {"excellent"}


def test_rp20_nobody_ranked_on_growth_in_the_first_year():
    rows = [bank("A", 500, 50), bank("B", 400, 40, "0", 0)]
    evaluated = evaluate_banks(rows)
    assert all(g.growth is None and g.growth_rank is None for g in evaluated)
    assert [g.as_dict()["ranks"]["growth"] for g in evaluated] == [None, None]
    assert {g.grade for g in evaluated} == {"qualified"}


def test_rp20_both_fell_is_unqualified_unless_every_bank_fell():
    rows = [bank("A", 90, 9, 100, 10), bank("B", 110, 9, 100, 10), bank("C", 90, 11, 100, 10)]
    assert grades(rows) == {"A": "unqualified", "B": "qualified", "C": "qualified"}
    every = [bank("A", 90, 9, 100, 10), bank("B", 80, 8, 100, 10)]
    assert set(grades(every).values()) == {"qualified"}
    # a new member did not fall, so the exception does not apply
    assert grades([*every, bank("N", 10, 1)])["A"] == "unqualified"


def test_rp20_violation_is_unqualified_whatever_the_figures():
    rows = [bank(f"B{i:02}", 100 + i, 10, 100, 10) for i in range(20)]
    rows[-1] = bank("B19", 1000, 100, 100, 10, violation=True)
    assert grades(rows)["B19"] == "unqualified"


def test_rp20_input_errors():
    with raises_rule("RP-20", "banks"):
        evaluate_banks([bank("A", 1, 1), bank("A", 2, 2)])
    with raises_rule("RP-20", "borrowers"):
        BankYear.from_mapping({"id": "A", "amount": "1", "borrowers": -1})
    assert evaluate_banks([]) == []


def test_rp20_growth_six_places():
    assert growth(D("100"), D("3")) == D("32.333333")
    assert growth(D("0"), D("3")) == D("-1.000000")
    assert growth(D("5"), None) is None and growth(D("5"), D("0")) is None


# --- RP-21 claw-back -----------------------------------------------------------------------

LPR_1Y = [(date(2023, 8, 21), D("3.45")), (date(2024, 7, 22), D("3.35")), (date(2024, 10, 21), D("3.10"))]


def test_rp21_interest_across_lpr_changes():
    # 21 days at 3.45%, 91 at 3.35%, 71 at 3.10%: 2024-07-01 to 2024-12-31 (183 days).
    expected = (D("1200000") * (21 * D("3.45") + 91 * D("3.35") + 71 * D("3.10")) / D("36500")).quantize(D("0.01"))
    assert clawback_interest("1200000.00", LPR_1Y, date(2024, 7, 1), date(2024, 12, 31)) == expected == D("19640.55")


def test_rp21_one_rate_and_no_time():
    assert clawback_interest("365000", LPR_1Y[:1], date(2024, 1, 1), date(2024, 1, 11)) == D("345.00")
    assert clawback_interest("365000", LPR_1Y, date(2024, 1, 1), date(2024, 1, 1)) == D("0.00")
    # unordered segments are sorted
    assert clawback_interest("1200000", list(reversed(LPR_1Y)), date(2024, 7, 1), date(2024, 12, 31)) == D("19640.55")


def test_rp21_refusals():
    with raises_rule("RP-21", "lpr"):
        clawback_interest("1", LPR_1Y, date(2023, 8, 20), date(2024, 1, 1))
    with raises_rule("RP-21", "returned_on"):
        clawback_interest("1", LPR_1Y, date(2024, 1, 2), date(2024, 1, 1))


# --- RP-22, RP-24, RP-25 -------------------------------------------------------------------


def test_rp22_revoked_after_two_unqualified_years_running():
    assert revoked(["unqualified", "unqualified"])
    assert revoked(["qualified", "unqualified", "unqualified"])
    assert not revoked(["unqualified", "qualified"])
    assert not revoked([None, "unqualified"])
    assert not revoked(["unqualified"])


def test_rp22_may_reapply_two_years_later():
    assert may_reapply_on(date(2025, 2, 20)) == date(2027, 2, 20)
    assert may_reapply_on(date(2024, 2, 29)) == date(2026, 2, 28)


def test_rp24_dishonesty_list_blocks_submission():
    assert may_submit(False) and not may_submit(True)
    with raises_rule("RP-24"):
        check_may_submit(True)
    check_may_submit(False)


@pytest.mark.parametrize(
    ("code", "masked"),
    [
        ("91440300MA5F12345X", "9144**********345X"),
        (" 91440300MA5F12345X ", "9144**********345X"),
        ("12345678", "12****78"),
        ("ABC", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_rp25_credit_code_masked(code, masked):
    assert mask_credit_code(code) == masked


# --- Scheme M ------------------------------------------------------------------------------


def test_rpm1_ratio_by_system_membership():
    assert m_ratio(True) == D("0.4") and m_ratio(False) == D("0.2")
    assert m_reimbursement("1000000.00", True) == D("400000.00")
    assert m_reimbursement("1000000.00", False) == D("200000.00")


def test_rpm2_products_and_the_shared_sub_fund():
    assert m_sub_fund("sci_tech").size == D("35000000")
    assert m_sub_fund("export").size == D("10000000")
    assert m_sub_fund("tax_source") is m_sub_fund("fixed_asset_investment")
    assert m_sub_fund("tax_source") == SubFund(
        "tax_and_fixed_asset", D("20000000"), ("tax_source", "fixed_asset_investment")
    )
    with raises_rule("RP-M2", "product"):
        m_sub_fund("mortgage")


def test_rpm3_suspension_rates_strict_usage_inclusive():
    assert not product_suspended(D("0.04"), D("0.04"), "0", "10000000").suspended
    above = product_suspended(D("0.040001"), None, "0", "10000000")
    assert above.suspended and [r.outcome for r in above.reasons] == [FAIL, PASS]
    assert product_suspended(None, D("0.05"), "0", "10000000").suspended
    at_70 = product_suspended(None, None, "7000000.00", "10000000")
    assert at_70.suspended and "70%" in at_70.reasons[-1].message
    assert not product_suspended(None, None, "6999999.99", "10000000").suspended


def test_rpm4_exclusions_with_reasons():
    assert m_exclusions({}) == [] and m_exclusions({"fraud": False}) == []
    found = m_exclusions({"late_collection": True, "overdue_elsewhere": True})
    assert [r.rule for r in found] == ["RP-M4", "RP-M4"] and all(r.outcome == FAIL for r in found)
    assert "overdue loan" in found[0].message and "collect in time" in found[1].message
    with raises_rule("RP-M4", "flags"):
        m_exclusions({"bad_weather": True})


def test_rpm5_returns_net_of_costs_never_above_reimbursed():
    assert m_return("500000", "50000", "0.4", "400000", "0") == D("180000.00")
    assert m_return("500000", "600000", "0.4", "400000", "0") == D("0.00")
    assert m_return("2000000", "0", "0.4", "400000", "300000") == D("100000.00")
    assert m_return_due(date(2025, 1, 31)) == date(2025, 3, 2)


def test_rpm6_report_due_by_end_of_march():
    assert m_report_due(2024) == date(2025, 3, 31)


# --- properties ----------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=D("50000000"), places=2)
shares = st.decimals(min_value=0, max_value=1, places=6)
days = st.dates(min_value=date(2019, 1, 1), max_value=date(2026, 6, 30))


@given(
    balance=amounts,
    qualified=st.booleans(),
    features=st.lists(st.sampled_from(S.feature_codes)),
    special=st.none() | shares,
)
def test_rp11_property_ratio_within_cap_or_the_special_ratio(balance, qualified, features, special):
    quals = [Qualification("high_tech")] if qualified else []
    got = compensation_ratio(
        balance, disbursed_on=date(2024, 5, 10), qualifications=quals, features=features, special_ratio=special
    )
    if special is not None:
        assert got == special
    elif balance > S.tiers[-1][0]:
        assert got is None
    else:
        assert D(0) <= got <= S.ratio_cap


@given(paid=amounts, share=shares, recoveries=st.lists(amounts, max_size=8))
def test_rp17_property_returns_never_exceed_what_remains(paid, share, recoveries):
    returned = D("0.00")
    for gross in recoveries:
        due = recovery_return(gross, share, paid, returned)
        assert D(0) <= due <= paid - returned
        assert due <= (gross * share).quantize(D("0.01"), ROUND_HALF_UP)
        returned += due
    assert returned <= paid


@given(reimbursed=amounts, share=shares, flows=st.lists(st.tuples(amounts, amounts), max_size=8))
def test_rpm5_property_returns_never_exceed_what_remains(reimbursed, share, flows):
    returned = D("0.00")
    for recovery, costs in flows:
        due = m_return(recovery, costs, share, reimbursed, returned)
        assert D(0) <= due <= reimbursed - returned
        returned += due
    assert returned <= reimbursed


@given(
    other=amounts,
    principal=st.decimals(min_value=D("0.01"), max_value=D("40000000"), places=2),
    part=st.decimals(min_value=0, max_value=1, places=2),
    disbursed=days,
    npl_after=st.integers(0, 800),
    submit_after=st.integers(-5, 120),
    rate=st.decimals(min_value=0, max_value=D("0.09"), places=4),
    features=st.lists(st.sampled_from(S.feature_codes), max_size=3),
    special=st.none() | shares,
)
def test_quote_property_ratio_and_amount_consistent(
    other, principal, part, disbursed, npl_after, submit_after, rate, features, special
):
    npl_on = disbursed + timedelta(days=npl_after)
    data = QuoteInput(
        loan_kind="enterprise",
        principal=principal,
        disbursed_on=disbursed,
        maturity_on=disbursed + timedelta(days=365),
        annual_rate=rate,
        other_balance=other,
        npl_on=npl_on,
        outstanding_principal=(principal * part).quantize(D("0.01")),
        features=tuple(features),
        entered_on=disbursed,
        submitted_on=npl_on + timedelta(days=submit_after),
    )
    result = quote(data, params=S, lpr_percent=LPR, calendar=CAL, special_ratio=special)
    failing = [r for r in result.reasons if r.outcome == FAIL]
    assert result.eligible == (not failing)
    if result.eligible:
        assert result.ratio == special if special is not None else D(0) <= result.ratio <= S.ratio_cap
        assert result.amount == (result.ratio * data.outstanding_principal).quantize(D("0.01"), ROUND_HALF_UP)
    else:
        assert (str(result.ratio), str(result.amount)) == ("0.000000", "0.00")


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), months=st.integers(0, 120))
def test_rp14_property_add_months_keeps_the_day_or_clamps(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or (later.day < day.day and (later + timedelta(days=1)).day == 1)


@given(st.lists(st.integers(0, 20), min_size=1, max_size=30))
def test_rp20_property_competition_ranks(values):
    ranks = competition_ranks(dict(enumerate(values)))
    for key, rank in ranks.items():
        assert rank == 1 + sum(v > values[key] for v in values)


# --- RP-16 8a / 8b / 8c: applications and approvals after the payment ------------------------


def test_rp16_8a_upgrade_application_due_15_working_days_after_the_reclassification():
    from riskpool.rules import application_due, applied_late

    due = application_due(reclassified_on=date(2025, 8, 20), disposal_completed_on=None, calendar=CAL)
    assert (due.step, due.owner, due.due) == ("upgrade_application", "bank", date(2025, 9, 10))
    assert not applied_late(due.due, date(2025, 9, 10)) and applied_late(due.due, date(2025, 9, 11))
    assert application_due(reclassified_on=None, disposal_completed_on=None, calendar=CAL) is None


def test_rp16_8b_settlement_application_due_15_working_days_after_disposal_across_the_national_day():
    from riskpool.rules import application_due

    due = application_due(reclassified_on=None, disposal_completed_on=date(2025, 9, 22), calendar=CAL)
    assert (due.step, due.owner, due.due) == ("settlement_application", "bank", date(2025, 10, 17))
    both = application_due(reclassified_on=date(2025, 9, 22), disposal_completed_on=date(2025, 8, 20), calendar=CAL)
    assert both.step == "settlement_application" and both.due == date(2025, 9, 10)  # the earlier one


def test_rp16_8abc_reviewer_authority_and_finance_bureau_steps_have_30_days_and_their_owner():
    owners = {state: next_step_due(state, date(2025, 9, 1), calendar=CAL)
              for state in ("upgrade_requested", "settlement_requested", "closure_reviewed", "closure_rechecked",
                            "closure_approved")}
    assert {s: (d.owner, d.due) for s, d in owners.items()} == {
        "upgrade_requested": ("reviewer", date(2025, 10, 1)),
        "settlement_requested": ("reviewer", date(2025, 10, 1)),
        "closure_reviewed": ("treasurer", date(2025, 10, 1)),
        "closure_rechecked": ("authority", date(2025, 10, 1)),
        "closure_approved": ("finance_bureau", date(2025, 10, 1)),
    }
