"""GU-6 … GU-10 figures of guarantees.selectors_indicators on a small hand-built data set."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from core.models import Organisation
from guarantees.rules import GuaranteeParams
from guarantees.selectors_indicators import bank_partner_rows, firm_indicator_rows
from tests.factories import (
    AgreementFactory,
    CompensationFactory,
    FirmNetAssetsFactory,
    GuaranteeFactory,
    OrganisationFactory,
)

pytestmark = pytest.mark.django_db

Q4_START, Q4_END = date(2024, 10, 1), date(2024, 12, 31)
PARAMS = GuaranteeParams()


@pytest.fixture
def book():
    """Firm A with two partner banks and a third without business; firm B on target; firm C idle.

    Firm A in 2024Q4 (every amount in yuan):
      written:  g1 1,000,000 @0.8% small-micro (bank 1, recommended)
                g2 3,000,000 @1.2% other, 单户 6,000,000 (bank 2, recommended)
      released: g3 2,000,000 on 11-30 (bank 1), g4 500,000 compensated on 12-10 with 510,000
                (bank 1, recommended), g8 700,000 on 12-31, the period's last day (bank 2, recommended)
      in force on 12-31 besides g1, g2: g5 800,000, g9 400,000 (compensation due 12-01, unpaid),
                g10 300,000 (due 12-31, unpaid), g11 200,000 (due 12-15, paid 2025-01-10)
      outside:  g6 starts 2025, g7 released in Q3 with a Q3 compensation
    """
    firm_a = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, name="A 担保")
    bank1 = OrganisationFactory(kind=Organisation.Kind.BANK, name="Bank 1")
    bank2 = OrganisationFactory(kind=Organisation.Kind.BANK, name="Bank 2")
    bank3 = OrganisationFactory(kind=Organisation.Kind.BANK, name="Bank 3")
    a1 = AgreementFactory(firm=firm_a, bank=bank1)
    a2 = AgreementFactory(firm=firm_a, bank=bank2, compliant=False)
    AgreementFactory(firm=firm_a, bank=bank3)

    def g(agreement, amount, start, **kwargs):
        return GuaranteeFactory(agreement=agreement, amount=D(amount), start=start,
                                single_borrower_amount=kwargs.pop("single", D(amount)), **kwargs)

    g(a1, "1000000.00", date(2024, 10, 10), fee_rate=D("0.008"), recommended_by_bank=True)
    g(a2, "3000000.00", date(2024, 11, 5), fee_rate=D("0.012"), small_micro_or_agri=False,
      single=D("6000000.00"), recommended_by_bank=True)
    g(a1, "2000000.00", date(2024, 3, 1), closed_on=date(2024, 11, 30))
    g4 = g(a1, "500000.00", date(2024, 1, 15), closed_on=date(2024, 12, 10), recommended_by_bank=True)
    CompensationFactory(guarantee=g4, due_on=date(2024, 12, 1), paid_on=date(2024, 12, 10), paid_amount=D("510000.00"))
    g(a2, "800000.00", date(2024, 2, 1))
    g(a2, "999.00", date(2025, 1, 5))
    g7 = g(a1, "100000.00", date(2023, 6, 1), closed_on=date(2024, 9, 30))
    CompensationFactory(guarantee=g7, due_on=date(2024, 9, 1), paid_on=date(2024, 9, 30), paid_amount=D("100000.00"))
    g(a2, "700000.00", date(2024, 5, 1), closed_on=date(2024, 12, 31), recommended_by_bank=True)
    g9 = g(a1, "400000.00", date(2024, 4, 1))
    CompensationFactory(guarantee=g9, due_on=date(2024, 12, 1))
    g10 = g(a2, "300000.00", date(2024, 4, 2))
    CompensationFactory(guarantee=g10, due_on=date(2024, 12, 31))
    g11 = g(a2, "200000.00", date(2024, 4, 3), closed_on=date(2025, 1, 10))
    CompensationFactory(guarantee=g11, due_on=date(2024, 12, 15), paid_on=date(2025, 1, 10), paid_amount=D("200000.00"))
    FirmNetAssetsFactory(firm=firm_a, as_of=date(2024, 6, 30), net_assets=D("2000000.00"))
    FirmNetAssetsFactory(firm=firm_a, as_of=date(2024, 12, 31), net_assets=D("2200000.00"))
    FirmNetAssetsFactory(firm=firm_a, as_of=date(2025, 3, 31), net_assets=D("9999999.00"))

    firm_b = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, name="B 担保")
    b1 = AgreementFactory(firm=firm_b)
    g(b1, "4000000.00", date(2024, 12, 31), fee_rate=D("0.008"))
    g(b1, "1000000.00", date(2024, 10, 1), fee_rate=D("0.009"), small_micro_or_agri=False)

    firm_c = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, name="C 担保")
    return {"a": firm_a, "b": firm_b, "c": firm_c, "banks": (bank1, bank2, bank3)}


def _rows(book, today=None):
    firms = Organisation.objects.filter(pk__in=[book["a"].pk, book["b"].pk, book["c"].pk])
    rows = firm_indicator_rows(firms=firms, period_start=Q4_START, period_end=Q4_END, params=PARAMS, today=today)
    return {row.firm_name: row for row in rows}


def test_gu6_gu7_gu8_gu9_figures_of_firm_a(book):
    a = _rows(book)["A 担保"]
    assert a.balance == D("5700000.00")  # g1 g2 g5 g9 g10 g11; g8 ends on 12-31 so is out
    assert a.net_assets == D("2200000.00")  # latest report on or before 12-31
    assert a.leverage == D("2.590909")  # 5,700,000 / 2,200,000
    assert a.written_amount == D("4000000.00")
    assert a.avg_fee_rate == D("0.011000")  # (8,000 + 36,000) / 4,000,000
    assert a.support_share == D("0.250000")
    assert a.small_amount_share == D("0.250000")  # g2's 单户 6,000,000 is above 5,000,000
    assert a.compensation_paid == D("510000.00")
    assert a.released_amount == D("3200000.00")  # g3 + g4 + g8
    assert a.compensation_rate == D("0.159375")  # 510,000 / 3,200,000
    assert (a.fee_on_target, a.support_on_target, a.small_share_on_target) == (False, False, False)
    assert a.noncompliant_agreements == 1


def test_gu4_overdue_compensations_as_of_period_end_and_today(book):
    # On 12-31: g9 (due 12-01) and g11 (due 12-15, paid only in January); g10 is due that very day.
    assert _rows(book)["A 担保"].overdue_compensations == 2
    assert _rows(book, today=date(2025, 1, 5))["A 担保"].overdue_compensations == 3
    assert _rows(book, today=date(2025, 1, 10))["A 担保"].overdue_compensations == 2


def test_gu6_gu7_firm_b_on_target_at_the_boundaries(book):
    b = _rows(book)["B 担保"]
    assert b.avg_fee_rate == D("0.008200")  # (32,000 + 9,000) / 5,000,000
    assert b.support_share == D("0.800000")  # exactly 80% is on target (不低于)
    assert b.small_amount_share == D("1.000000")
    assert (b.fee_on_target, b.support_on_target, b.small_share_on_target) == (True, True, True)
    assert b.net_assets is None and b.leverage is None
    assert b.compensation_rate is None and b.released_amount == D("0.00")


def test_a_firm_without_business_has_zeros_and_no_ratios(book):
    c = _rows(book)["C 担保"]
    assert (c.balance, c.written_amount, c.compensation_paid, c.released_amount) == (D("0"),) * 4
    assert (c.avg_fee_rate, c.support_share, c.small_amount_share, c.compensation_rate, c.leverage) == (None,) * 5
    assert (c.noncompliant_agreements, c.overdue_compensations) == (0, 0)


def test_rows_come_ordered_by_firm_name(book):
    assert list(_rows(book)) == ["A 担保", "B 担保", "C 担保"]


def test_gu10_bank_partner_rows_of_firm_a(book):
    rows = {r.bank_name: r for r in bank_partner_rows(firm=book["a"], period_start=Q4_START, period_end=Q4_END)}
    assert list(rows) == ["Bank 1", "Bank 2", "Bank 3"]
    one, two, three = rows["Bank 1"], rows["Bank 2"], rows["Bank 3"]
    assert (one.recommended_count, one.recommended_amount) == (1, D("1000000.00"))
    # Recommended business released: g4 only; its compensation includes interest, so above 1.
    assert (one.compensation_paid, one.released_amount, one.compensation_rate) == (
        D("510000.00"), D("500000.00"), D("1.020000"))
    assert one.compensation_rate_all == D("0.204000")  # 510,000 / (2,000,000 + 500,000)
    assert one.overdue_compensations == 1  # g9
    assert (two.recommended_count, two.recommended_amount) == (1, D("3000000.00"))
    assert (two.compensation_rate, two.compensation_rate_all) == (D("0.000000"), D("0.000000"))
    assert two.overdue_compensations == 1  # g11, unpaid on 12-31
    assert (three.recommended_count, three.recommended_amount, three.compensation_rate) == (0, D("0"), None)


def _firms_with_business(n):
    for _ in range(n):
        guarantee = GuaranteeFactory(start=date(2024, 11, 1), closed_on=date(2024, 12, 1))
        CompensationFactory(guarantee=guarantee, due_on=date(2024, 11, 20), paid_on=date(2024, 12, 1),
                            paid_amount=D("1000.00"))
        FirmNetAssetsFactory(firm=guarantee.firm)
        GuaranteeFactory(agreement=AgreementFactory(firm=guarantee.firm, compliant=False), start=date(2024, 10, 2))
    return Organisation.objects.filter(kind=Organisation.Kind.GUARANTEE_FIRM)


@pytest.mark.parametrize("count", [3, 30])
def test_jb15_constant_number_of_queries(count, django_assert_num_queries):
    firms = _firms_with_business(count)
    with django_assert_num_queries(3):
        rows = firm_indicator_rows(firms=firms, period_start=Q4_START, period_end=Q4_END, params=PARAMS)
    assert len(rows) == count
    assert {(r.compensation_paid, r.noncompliant_agreements, r.net_assets) for r in rows} == {
        (D("1000.00"), 1, D("100000000.00"))}


@pytest.mark.parametrize("count", [3, 30])
def test_jb15_bank_partner_rows_constant_queries(count, django_assert_num_queries):
    firm = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM)
    for _ in range(count):
        GuaranteeFactory(agreement=AgreementFactory(firm=firm), start=date(2024, 11, 1), recommended_by_bank=True)
    with django_assert_num_queries(3):
        rows = bank_partner_rows(firm=firm, period_start=Q4_START, period_end=Q4_END)
    assert len(rows) == count and {r.recommended_count for r in rows} == {1}
