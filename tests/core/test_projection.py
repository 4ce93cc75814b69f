"""Issue 15 projection arithmetic (core.projection): payouts from observed NPL rates and ratios,
recoveries a quarter later, run-out quarter and the budget that keeps the pool above a floor."""
from decimal import Decimal

from core.projection import Group, budget_to_keep_above, project_balance, run_out_index

D = Decimal
GROUPS = [Group("bank:enterprise", D("10000000"), D("0.01"), D("0.40"))]  # 40,000 a quarter


def test_payouts_are_performing_times_rate_times_ratio_and_recoveries_follow_a_quarter_later():
    rows = project_balance(balance=D("200000"), groups=GROUPS, recovery_share=D("0.25"), quarters=3)
    assert [r["payouts"] for r in rows] == [D("40000.00")] * 3
    assert [r["recoveries"] for r in rows] == [D("0.00"), D("10000.00"), D("10000.00")]
    assert [r["balance"] for r in rows] == [D("160000.00"), D("130000.00"), D("100000.00")]


def test_stress_multiplies_npl_rates_by_k_and_recoveries_by_m():
    rows = project_balance(balance=D("0"), groups=GROUPS, recovery_share=D("0.25"), quarters=2, k=D("2"), m=D("2"))
    assert rows[1]["payouts"] == D("80000.00") and rows[1]["recoveries"] == D("40000.00")


def test_recovery_share_times_m_is_at_most_everything_paid():
    rows = project_balance(balance=D("0"), groups=GROUPS, recovery_share=D("0.8"), quarters=2, m=D("2"))
    assert rows[1]["recoveries"] == rows[0]["payouts"]


def test_run_out_is_the_first_quarter_below_zero():
    rows = project_balance(balance=D("100000"), groups=GROUPS, recovery_share=D("0"), quarters=4)
    assert [r["balance"] for r in rows] == [D("60000.00"), D("20000.00"), D("-20000.00"), D("-60000.00")]
    assert run_out_index(rows) == 3
    assert run_out_index(rows[:2]) is None


def test_budget_is_the_smallest_equal_top_up_that_keeps_the_floor():
    rows = project_balance(balance=D("100000"), groups=GROUPS, recovery_share=D("0"), quarters=4)
    budget = budget_to_keep_above(rows, D("50000"))
    assert budget == D("27500.00")  # quarter 4: 50,000 − (−60,000) = 110,000 over 4 quarters
    topped = project_balance(balance=D("100000"), groups=GROUPS, recovery_share=D("0"), quarters=4, budget=budget)
    assert min(r["balance"] for r in topped) == D("50000.00")
    assert budget_to_keep_above(rows, D("-100000")) == D("0")
