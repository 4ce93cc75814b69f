"""RP-15 (seed 004 第十七条 "不良贷款项目本金总额超过该银行入库贷款项目本金总额的3%"), the spec's
Interpretation as written: numerator = outstanding principal (本金余额) of the bank's entered
projects now non-performing, compensated or not, except those closed by write-off; denominator =
principal of all projects it entered under the rule set in force (from 2023-08-10). One rules
function defines it (``rules.npl_figures``); the services' GROUP BY gives the same figures, and
the gate is open at exactly 3% and shut just above it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from riskpool import rules, services
from riskpool.models import LoanProject
from tests.factories import LoanProjectFactory, MemberFactory, PoolFactory

START = date(2023, 8, 10)  # the Scheme S rule set in force


def p(principal, classification="normal", outstanding=None, closed_reason="", disbursed=date(2024, 5, 10)):
    return rules.NplProject(D(principal), None if outstanding is None else D(outstanding), classification,
                            closed_reason, disbursed)


def test_rp15_numerator_is_the_outstanding_principal_not_the_principal():
    npl, entered, ratio = rules.npl_figures([p("1000000", "substandard", outstanding="300000"), p("9000000")],
                                            rule_set_from=START, rule_set_to=None)
    assert (npl, entered, ratio) == (D("300000"), D("10000000"), D("0.030000"))


def test_rp15_without_a_recorded_outstanding_the_principal_counts():
    assert rules.npl_figures([p("300000", "loss"), p("9700000")], rule_set_from=START, rule_set_to=None)[0] == D("300000")


def test_rp15_write_off_closures_leave_the_numerator_but_stay_in_the_denominator():
    npl, entered, _ratio = rules.npl_figures(
        [p("500000", "loss", outstanding="400000", closed_reason="write_off"), p("9500000")],
        rule_set_from=START, rule_set_to=None)
    assert (npl, entered) == (D("0"), D("10000000"))


def test_rp15_denominator_counts_only_loans_entered_under_the_current_rule_set():
    older = p("5000000", disbursed=date(2023, 8, 9))  # the day before the rule set starts
    first = p("1000000", disbursed=START)
    _npl, entered, _ratio = rules.npl_figures([older, first], rule_set_from=START, rule_set_to=date(2028, 8, 10))
    assert entered == D("1000000")
    after = p("1000000", disbursed=date(2028, 8, 11))
    assert rules.npl_figures([after], rule_set_from=START, rule_set_to=date(2028, 8, 10))[1] == D("0")


def test_rp15_gate_boundary_exactly_3_percent_is_open_one_cent_more_is_held():
    at, _e, ratio = rules.npl_figures([p("300000", "doubtful"), p("9700000")], rule_set_from=START, rule_set_to=None)
    assert ratio == D("0.030000") and rules.npl_gate_open(ratio) and not rules.npl_over_limit(ratio)
    _n, _e, above = rules.npl_figures([p("300000", "doubtful", outstanding="300050"), p("9700000")],
                                      rule_set_from=START, rule_set_to=None)
    assert above == D("0.030005") and not rules.npl_gate_open(above) and rules.npl_over_limit(above)


@pytest.mark.django_db
def test_rp15_the_services_sums_equal_the_rule():
    pool = PoolFactory()
    member = MemberFactory(pool=pool)
    bank = member.organisation
    rows = [
        dict(principal=D("1000000.00"), classification="substandard", outstanding_yuan=D("300000.00")),
        dict(principal=D("200000.00"), classification="loss"),  # no claim: its principal
        dict(principal=D("400000.00"), classification="loss", closed_reason="write_off",
             library=LoanProject.Library.CLOSED),
        dict(principal=D("5000000.00"), disbursed_on=date(2023, 8, 9), entered_on=date(2023, 8, 20),
             maturity_on=date(2024, 8, 9)),  # before the rule set: not in the denominator
        dict(principal=D("9000000.00")),
    ]
    projects = [LoanProjectFactory(pool=pool, bank=bank, **row) for row in rows]
    services.member_refresh_npl(member, on=date(2025, 6, 1))
    member.refresh_from_db()
    expected = rules.npl_figures(
        [rules.NplProject(x.principal_yuan, x.outstanding_yuan, x.classification, x.closed_reason, x.disbursed_on)
         for x in LoanProject.objects.filter(pk__in=[x.pk for x in projects])],
        rule_set_from=START, rule_set_to=None)
    assert (member.npl_principal, member.entered_principal, member.npl_ratio) == expected
    assert expected[:2] == (D("500000.00"), D("10600000.00"))
