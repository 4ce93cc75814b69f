"""Scheme M (马政办〔2024〕6号) through riskpool.services_m, each rule by its id: RP-M1 ratio,
RP-M2 products and sub-fund caps, RP-M3 suspension, RP-M4 exclusions, RP-M5 returns."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import Conflict, RuleViolation
from core.i18n_text import render
from riskpool import rules, services, services_m
from riskpool.models import LedgerEntry, MClaim, Product
from tests.factories import (
    FirmYearProfileFactory,
    PoolFactory,
    UserFactory,
    bank_user,
    firm_user,
    paid_compensation,
)

pytestmark = pytest.mark.django_db
ON = date(2025, 3, 1)


def reload(obj):
    obj.refresh_from_db()
    return obj


class MWorld:
    """A Scheme M pool with its four default products, 65,000,000 of budget, the authority,
    reviewer and treasurer, and one guarantee firm in the new government-bank system in 2025."""

    def __init__(self):
        from tests.factories import SchemeMPoolFactory

        self.pool = SchemeMPoolFactory()
        self.authority = UserFactory(organisation=self.pool.authority, roles=["authority_admin"])
        self.reviewer = UserFactory(organisation=self.pool.reviewer, roles=["pool_reviewer"])
        self.treasurer = UserFactory(organisation=self.pool.treasurer, roles=["pool_treasurer"])
        services.pool_budget_add(user=self.authority, pool=self.pool, amount=D("65000000.00"),
                                 booked_on=date(2025, 1, 2))
        self.products = {p.code: p for p in services_m.product_setup(user=self.authority, pool=self.pool,
                                                                     on=date(2025, 1, 2))}
        self.firm_user = firm_user()
        self.firm = self.firm_user.organisation
        FirmYearProfileFactory(firm=self.firm, year=2025, in_new_gov_bank_system=True)

    def submit(self, product="sci_tech", payout=D("1000000.00"), exclusions=None, user=None, compensation=None):
        compensation = compensation or paid_compensation(self.firm, paid_amount=payout)
        return services_m.m_claim_submit(user=user or self.firm_user, product=self.products[product],
                                         compensation=compensation, submitted_on=ON, exclusions=exclusions or {})

    def approve(self, m_claim):
        return services_m.m_claim_approve(user=self.reviewer, m_claim=m_claim)

    def pay(self, m_claim, key=None, on=date(2025, 3, 10)):
        return services_m.m_claim_pay(user=self.treasurer, m_claim=m_claim, on=on,
                                      idempotency_key=key or f"m-pay-{m_claim.pk}")

    def paid_claim(self, product="sci_tech", payout=D("1000000.00")):
        return self.pay(self.approve(self.submit(product, payout)))


@pytest.fixture
def world():
    return MWorld()


# --- RP-M2 products ----------------------------------------------------------------------


def test_rpm2_product_setup_creates_the_four_default_products_with_the_shared_sub_fund(world):
    got = {p.code: (p.name, p.subfund, p.size) for p in Product.objects.filter(pool=world.pool)}
    assert got == {
        "sci_tech": ("科信贷", "sci_tech", D("35000000.00")),
        "export": ("出口贷", "export", D("10000000.00")),
        "tax_source": ("税源贷", "tax_and_fixed_asset", D("20000000.00")),
        "fixed_asset_investment": ("固定资产投资贷", "tax_and_fixed_asset", D("20000000.00")),
    }
    again = services_m.product_setup(user=world.authority, pool=world.pool, on=date(2025, 1, 2))
    assert len(again) == 4 and Product.objects.filter(pool=world.pool).count() == 4


def test_rpm2_product_setup_only_by_the_authority_and_only_for_scheme_m(world):
    with pytest.raises(PermissionDenied):
        services_m.product_setup(user=world.firm_user, pool=world.pool)
    pool_s = PoolFactory()
    admin = UserFactory(organisation=pool_s.authority, roles=["authority_admin"])
    with pytest.raises(RuleViolation) as exc:
        services_m.product_setup(user=admin, pool=pool_s)
    assert exc.value.rule == "RP-M2"


def test_rpm2_sub_fund_cap_cumulative_reimbursements_never_exceed_the_size(world):
    first = world.approve(world.submit("export", D("20000000.00")))  # 8,000,000
    second = world.approve(world.submit("export", D("7500000.00")))  # 3,000,000: 11,000,000 > 10,000,000
    third = world.approve(world.submit("export", D("5000000.00")))  # 2,000,000: exactly 10,000,000
    world.pay(first)
    with pytest.raises(RuleViolation) as exc:
        world.pay(second)
    assert exc.value.rule == "RP-M2" and "10000000.00" in exc.value.message
    assert reload(second).state == "approved"
    world.pay(third)
    assert reload(third).state == "paid"
    assert world.pool.ledger.filter(kind=LedgerEntry.Kind.PAYOUT).count() == 2


def test_rpm2_shared_tax_and_fixed_asset_sub_fund_caps_the_two_products_together(world):
    tax = world.approve(world.submit("tax_source", D("30000000.00")))  # 12,000,000
    fixed = world.approve(world.submit("fixed_asset_investment", D("25000000.00")))  # 10,000,000: 22m > 20m
    fits = world.approve(world.submit("fixed_asset_investment", D("20000000.00")))  # 8,000,000: exactly 20m
    sci = world.approve(world.submit("sci_tech", D("25000000.00")))  # another sub-fund: unaffected
    world.pay(tax)
    with pytest.raises(RuleViolation) as exc:
        world.pay(fixed)
    assert exc.value.rule == "RP-M2"
    world.pay(fits)
    world.pay(sci)
    assert reload(fits).state == "paid" and reload(sci).state == "paid"


# --- RP-M1 ratio -------------------------------------------------------------------------


def test_rpm1_firm_in_the_new_gov_bank_system_gets_40_percent(world):
    m_claim = world.submit(payout=D("1234567.89"))
    assert (m_claim.state, m_claim.ratio, m_claim.payout, m_claim.amount) == (
        "submitted", D("0.400000"), D("1234567.89"), D("493827.16"))
    assert m_claim.firm == world.firm


def test_rpm1_firm_outside_the_system_in_the_payout_year_gets_20_percent(world):
    # in the system in 2025 but not in 2024, the year of this payout
    FirmYearProfileFactory(firm=world.firm, year=2024, in_new_gov_bank_system=False)
    compensation = paid_compensation(world.firm, paid_amount=D("1000000.00"), paid_on=date(2024, 12, 30))
    m_claim = world.submit(compensation=compensation)
    assert (m_claim.ratio, m_claim.amount) == (D("0.200000"), D("200000.00"))


def test_rpm1_firm_without_a_profile_for_the_payout_year_gets_20_percent(world):
    compensation = paid_compensation(world.firm, paid_amount=D("1000000.00"), paid_on=date(2024, 6, 30))
    m_claim = world.submit(compensation=compensation)
    assert m_claim.ratio == D("0.200000") and "no profile for 2024" in render(m_claim.reasons[0]["message"])


def test_rpm1_unpaid_compensation_is_refused(world):
    unpaid = paid_compensation(world.firm, paid_amount=None, paid_on=None)
    with pytest.raises(RuleViolation) as exc:
        world.submit(compensation=unpaid)
    assert exc.value.rule == "RP-M1"


def test_rpm1_one_claim_per_compensation_and_only_the_firms_operator(world):
    m_claim = world.submit()
    with pytest.raises(Conflict):
        world.submit(compensation=m_claim.compensation)
    with pytest.raises(PermissionDenied):
        world.submit(user=firm_user())  # another firm's operator
    with pytest.raises(PermissionDenied):
        world.submit(user=bank_user())


# --- RP-M4 exclusions --------------------------------------------------------------------


@pytest.mark.parametrize("exclusion", list(rules.M_EXCLUSIONS))
def test_rpm4_each_exclusion_refuses_the_claim(world, exclusion):
    with pytest.raises(RuleViolation) as exc:
        world.submit(exclusions={exclusion: True})
    assert [p.rule for p in exc.value.problems] == ["RP-M4"]
    assert exc.value.message == str(rules.M_EXCLUSIONS[exclusion])
    assert not MClaim.objects.exists()


def test_rpm4_every_exclusion_that_applies_is_listed(world):
    with pytest.raises(RuleViolation) as exc:
        world.submit(exclusions={key: True for key in rules.M_EXCLUSIONS})
    assert len(exc.value.problems) == len(rules.M_EXCLUSIONS)


def test_rpm4_false_flags_do_not_exclude(world):
    assert world.submit(exclusions={key: False for key in rules.M_EXCLUSIONS}).state == "submitted"


# --- review ------------------------------------------------------------------------------


def test_rpm_review_by_the_pool_reviewer_rejection_needs_reasons(world):
    m_claim = world.submit()
    with pytest.raises(PermissionDenied):
        services_m.m_claim_approve(user=world.treasurer, m_claim=m_claim)
    with pytest.raises(RuleViolation):
        services_m.m_claim_reject(user=world.reviewer, m_claim=m_claim, note=" ")
    rejected = services_m.m_claim_reject(user=world.reviewer, m_claim=m_claim, note="材料不全")
    assert rejected.state == "rejected" and rejected.reasons[-1]["message"] == "材料不全"
    with pytest.raises(Conflict):
        world.approve(m_claim)
    with pytest.raises(Conflict):
        world.pay(m_claim)


# --- paying ------------------------------------------------------------------------------


def test_rpm_pay_is_idempotent_and_only_by_the_treasurer(world):
    m_claim = world.approve(world.submit(payout=D("1000000.00")))
    with pytest.raises(PermissionDenied):
        services_m.m_claim_pay(user=world.reviewer, m_claim=m_claim, on=date(2025, 3, 10), idempotency_key="k1")
    world.pay(m_claim, key="k1")
    world.pay(m_claim, key="k1")
    entries = LedgerEntry.objects.filter(m_claim=m_claim)
    assert [(e.kind, e.amount) for e in entries] == [(LedgerEntry.Kind.PAYOUT, D("-400000.00"))]
    assert reload(world.pool).balance == D("64600000.00")
    assert reload(m_claim).state == "paid" and m_claim.paid_on == date(2025, 3, 10)
    with pytest.raises(Conflict):
        world.pay(m_claim, key="k2")  # a new request for a paid claim


# --- RP-M3 suspension --------------------------------------------------------------------


def test_rpm3_reimbursements_just_under_70_percent_do_not_suspend(world):
    world.paid_claim("export", D("17499999.97"))  # 6,999,999.99
    product = reload(world.products["export"])
    assert not product.suspended


def test_rpm3_shared_sub_fund_70_percent_suspends_both_products(world):
    world.paid_claim("tax_source", D("35000000.00"))  # 14,000,000 = 70% of the shared 20,000,000
    assert reload(world.products["tax_source"]).suspended
    assert reload(world.products["fixed_asset_investment"]).suspended


def test_rpm3_product_npl_rate_exactly_4_percent_does_not_suspend_above_does():
    """The pure rule; the per-party rates from tagged loans are in test_scheme_m_parties.py."""
    size = D("10000000.00")
    assert not rules.product_suspended(D("0.040000"), None, D("0"), size).suspended
    assert rules.product_suspended(D("0.040001"), None, D("0"), size).suspended


# --- RP-M5 returns -----------------------------------------------------------------------


def test_rpm5_return_is_recovery_net_of_costs_times_the_ratio(world):
    m_claim = world.paid_claim(payout=D("1000000.00"))  # reimbursed 400,000
    result = services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 6, 1),
                                        recovery=D("500000.00"), costs=D("50000.00"), on=date(2025, 6, 20))
    assert result.amount == D("180000.00") and result.due_on == date(2025, 7, 1)
    assert reload(m_claim).returned_amount == D("180000.00")
    entry = LedgerEntry.objects.get(m_claim=m_claim, kind=LedgerEntry.Kind.RETURN_RECOVERY)
    assert entry.amount == D("180000.00") and entry.booked_on == date(2025, 6, 20)


def test_rpm5_returns_never_exceed_what_was_reimbursed(world):
    m_claim = world.paid_claim(payout=D("1000000.00"))  # reimbursed 400,000
    services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 6, 1),
                               recovery=D("800000.00"), costs=D("0"))  # 320,000
    second = services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 7, 1),
                                        recovery=D("900000.00"), costs=D("0"))  # 360,000 → capped at 80,000
    assert second.amount == D("80000.00") and reload(m_claim).returned_amount == D("400000.00")
    third = services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 8, 1),
                                       recovery=D("100000.00"), costs=D("0"))
    assert third.amount == D("0.00")
    assert LedgerEntry.objects.filter(m_claim=m_claim, kind=LedgerEntry.Kind.RETURN_RECOVERY).count() == 2


def test_rpm5_costs_above_the_recovery_return_nothing(world):
    m_claim = world.paid_claim()
    result = services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 6, 1),
                                        recovery=D("10000.00"), costs=D("20000.00"))
    assert result.amount == D("0.00") and reload(m_claim).returned_amount == D("0.00")
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_RECOVERY).exists()


def test_rpm5_recovery_after_write_off_is_returned_the_same_way(world):
    m_claim = world.paid_claim(payout=D("1000000.00"))
    compensation = m_claim.compensation
    compensation.written_off_on = date(2025, 5, 1)
    compensation.written_off_amount = D("1000000.00")
    compensation.save()
    result = services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2026, 1, 5),
                                        recovery=D("100000.00"), costs=D("10000.00"))
    assert result.amount == D("36000.00")


def test_rpm5_same_request_twice_returns_once_and_only_the_firm_records(world):
    m_claim = world.paid_claim()
    with pytest.raises(PermissionDenied):
        services_m.m_return_record(user=world.treasurer, m_claim=m_claim, received_on=date(2025, 6, 1),
                                   recovery=D("100000.00"), costs=D("0"))
    for _ in range(2):
        result = services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 6, 1),
                                            recovery=D("100000.00"), costs=D("0"), idempotency_key="ret-1")
        assert result.amount == D("40000.00")
    assert reload(m_claim).returned_amount == D("40000.00")
    assert LedgerEntry.objects.filter(m_claim=m_claim, kind=LedgerEntry.Kind.RETURN_RECOVERY).count() == 1


def test_rpm5_only_a_paid_claim_returns(world):
    m_claim = world.approve(world.submit())
    with pytest.raises(Conflict):
        services_m.m_return_record(user=world.firm_user, m_claim=m_claim, received_on=date(2025, 6, 1),
                                   recovery=D("100000.00"), costs=D("0"))
