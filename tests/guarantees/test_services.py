"""Service tests on the database (PostgreSQL in CI): each business action's happy path, the rule
it enforces (named in the test), the audit row it writes, its state-transition guards, and one
race: two payments of the same compensation at once."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from core.bulk import BulkRejected, RowError
from core.errors import Conflict, RuleViolation
from core.i18n_text import render
from core.models import AuditEvent, Role, RuleSet
from guarantees import services
from guarantees.models import Agreement, Borrower, Compensation, FirmNetAssets, Guarantee, Recovery
from tests.factories import (
    AgreementFactory,
    BorrowerDataFactory,
    BorrowerFactory,
    GuaranteeDataFactory,
    OrganisationFactory,
    bank_user,
    firm_user,
)

pytestmark = pytest.mark.django_db

SPLIT_2422 = {"bank": "0.20", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20"}


def audits(instance, action=None):
    rows = AuditEvent.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    return list((rows.filter(action=action) if action else rows).order_by("id"))


def rules_of(exc_info) -> list[str]:
    return [p.rule for p in exc_info.value.problems]


def fields_of(exc_info) -> list[str | None]:
    return [p.field for p in exc_info.value.problems]


@pytest.fixture
def user():
    return firm_user()


@pytest.fixture
def firm(user):
    return user.organisation


@pytest.fixture
def bank():
    return OrganisationFactory(kind="bank")


@pytest.fixture
def agreement(firm, bank):
    return AgreementFactory(firm=firm, bank=bank)


def create(user, agreement, borrower=None, **data):
    return services.guarantee_create(
        user=user, agreement=agreement, borrower=borrower or BorrowerDataFactory(), data=GuaranteeDataFactory(**data)
    )


def new_agreement(user, bank, **kwargs):
    values = {"code": "YD-1", "signed_on": date(2024, 1, 1), "expires_on": date(2026, 12, 31), "grace_days": 30,
              "shares": SPLIT_2422}
    values.update(kwargs)
    return services.agreement_create(user=user, firm=user.organisation, bank=bank, **values)


# --- agreements (GU-1, GU-2, GU-4) ------------------------------------------------------------


def test_agreement_create_stores_the_split_and_audits(user, bank):
    agreement = new_agreement(user, bank, deposit_ratio="0.1")
    assert agreement.shares() == {"bank": D("0.2"), "guarantee_firm": D("0.4"), "reguarantee": D("0.2"),
                                  "national_fund": D("0.2"), "government": D("0")}
    assert agreement.compliant is True and agreement.problems == []
    assert agreement.deposit_ratio == D("0.100000")
    [event] = audits(agreement)
    assert event.action == AuditEvent.Action.CREATE and event.actor == user and event.organisation == user.organisation
    assert event.before is None and event.after["share_bank"] == "0.200000" and event.after["code"] == "YD-1"


def test_gu2_agreement_breach_is_stored_non_compliant_with_problems(user, bank):
    shares = {"bank": "0.10", "guarantee_firm": "0.40", "reguarantee": "0.10", "national_fund": "0.15",
              "government": "0.25"}
    agreement = new_agreement(user, bank, shares=shares)
    agreement.refresh_from_db()
    assert agreement.compliant is False
    assert [(p["rule"], p["field"]) for p in agreement.problems] == [
        ("GU-2", "shares.bank"), ("GU-2", "shares.national_fund"), ("GU-2", "shares.reguarantee"),
    ]
    assert all(p["message"] for p in agreement.problems)


@pytest.mark.parametrize(
    "shares",
    [
        {"bank": "0.30", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20"},
        {"bank": "-0.20", "guarantee_firm": "0.80", "reguarantee": "0.20", "national_fund": "0.20"},
        {"bank": "x", "guarantee_firm": "0.40", "reguarantee": "0.20", "national_fund": "0.20"},
    ],
)
def test_gu1_agreement_split_must_add_up(user, bank, shares):
    with pytest.raises(RuleViolation) as exc:
        new_agreement(user, bank, shares=shares)
    assert set(rules_of(exc)) == {"GU-1"} and set(fields_of(exc)) == {"shares"}
    assert not Agreement.objects.exists()


def test_gu4_agreement_grace_period_must_be_whole_days(user, bank):
    with pytest.raises(RuleViolation) as exc:
        new_agreement(user, bank, grace_days=-1)
    assert rules_of(exc) == ["GU-4"] and fields_of(exc) == ["grace_days"]


def test_agreement_parties_dates_and_number_are_checked(user, bank):
    with pytest.raises(RuleViolation) as exc:
        new_agreement(user, OrganisationFactory(kind="guarantee_firm"), expires_on=date(2023, 12, 31))
    assert set(fields_of(exc)) == {"bank", "expires_on"}
    new_agreement(user, bank)
    with pytest.raises(RuleViolation) as exc:
        new_agreement(user, bank)
    assert fields_of(exc) == ["code"]


def test_agreement_create_needs_a_firm_operator_of_that_firm(user, bank):
    values = {"firm": user.organisation, "bank": bank, "code": "X", "signed_on": date(2024, 1, 1),
              "expires_on": date(2025, 1, 1), "grace_days": 30, "shares": SPLIT_2422}
    for outsider in (bank_user(), firm_user()):  # the wrong role; the right role of another firm
        with pytest.raises(PermissionDenied):
            services.agreement_create(user=outsider, **values)
    assert not Agreement.objects.exists()


def test_gu2_agreement_update_rechecks_the_split_and_audits_before_after(user, bank):
    agreement = new_agreement(user, bank)
    shares = {"bank": "0.10", "guarantee_firm": "0.50", "reguarantee": "0.20", "national_fund": "0.20"}
    updated = services.agreement_update(user=user, agreement=agreement, shares=shares, grace_days=45)
    assert updated.compliant is False and updated.grace_days == 45
    [event] = audits(agreement, AuditEvent.Action.UPDATE)
    assert event.before["share_bank"] == "0.200000" and event.after["share_bank"] == "0.100000"
    assert event.before["compliant"] is True and event.after["compliant"] is False
    assert (event.before["grace_days"], event.after["grace_days"]) == (30, 45)


def test_gu1_agreement_update_refuses_a_bad_split_and_keeps_the_old(user, bank):
    agreement = new_agreement(user, bank)
    with pytest.raises(RuleViolation) as exc:
        services.agreement_update(user=user, agreement=agreement, shares={**SPLIT_2422, "bank": "0.5"})
    assert rules_of(exc) == ["GU-1"]
    agreement.refresh_from_db()
    assert agreement.share_bank == D("0.2") and not audits(agreement, AuditEvent.Action.UPDATE)


# --- guarantees (GU-5, GU-11, GU-12) ----------------------------------------------------------


def test_guarantee_create_records_borrower_and_guarantee_with_audit(user, agreement):
    guarantee = create(user, agreement)
    assert guarantee.status == Guarantee.Status.ACTIVE and guarantee.firm == agreement.firm
    assert guarantee.bank == agreement.bank and guarantee.created_by == user
    assert guarantee.small_micro_or_agri is True and guarantee.fee_compliant is True and guarantee.problems == []
    assert guarantee.single_borrower_amount == D("800000.00")
    assert guarantee.borrower.owner == agreement.firm
    [event] = audits(guarantee)
    assert event.action == AuditEvent.Action.CREATE and event.after["contract_no"] == guarantee.contract_no
    assert event.after["amount"] == "800000.00" and event.before is None
    assert audits(guarantee.borrower, AuditEvent.Action.CREATE)


def test_guarantee_create_finds_the_borrower_again_by_identifier(user, agreement):
    data = BorrowerDataFactory()
    first = create(user, agreement, borrower=data)
    data.name = "改名后的企业"
    second = create(user, agreement, borrower=data)
    assert first.borrower_id == second.borrower_id and Borrower.objects.count() == 1
    assert Borrower.objects.get().name == "改名后的企业"
    [update] = audits(second.borrower, AuditEvent.Action.UPDATE)
    assert update.before["name"] != update.after["name"]


def test_gu5_single_borrower_amount_sums_open_guarantees_with_the_same_firm(user, agreement):
    """4,000,000 existing + 1,500,000 new = 5,500,000 单户担保金额: above 5,000,000, so the cap is 1.5%."""
    data = BorrowerDataFactory()
    create(user, agreement, borrower=data, amount=D("4000000.00"), loan_principal=D("4000000.00"))
    guarantee = create(user, agreement, borrower=data, amount=D("1500000.00"), loan_principal=D("1500000.00"),
                       fee_rate=D("0.015"))
    assert guarantee.single_borrower_amount == D("5500000.00")
    assert guarantee.fee_compliant is True and guarantee.problems == []
    above = create(user, agreement, borrower=data, amount=D("100000.00"), fee_rate=D("0.015001"))
    assert above.single_borrower_amount == D("5600000.00")
    assert above.fee_compliant is False and [p["rule"] for p in above.problems] == ["GU-5"]


def test_gu5_boundary_5m_keeps_the_1_percent_cap(user, agreement):
    data = BorrowerDataFactory()
    create(user, agreement, borrower=data, amount=D("4000000.00"), loan_principal=D("4000000.00"))
    guarantee = create(user, agreement, borrower=data, amount=D("1000000.00"), fee_rate=D("0.012"))
    assert guarantee.single_borrower_amount == D("5000000.00")
    assert guarantee.fee_compliant is False
    assert [(p["rule"], p["field"]) for p in guarantee.problems] == [("GU-5", "fee_rate")]
    assert "1%" in render(guarantee.problems[0]["message"])


def test_gu5_released_guarantees_and_other_firms_do_not_count(user, agreement):
    data = BorrowerDataFactory()
    old = create(user, agreement, borrower=data, amount=D("4000000.00"), loan_principal=D("4000000.00"))
    services.guarantee_release(user=user, guarantee=old, released_on=date(2024, 6, 1))
    other_user = firm_user()
    other = AgreementFactory(firm=other_user.organisation)
    services.guarantee_create(user=other_user, agreement=other, borrower=BorrowerDataFactory(id_number=data.id_number),
                              data=GuaranteeDataFactory(amount=D("4000000.00"), loan_principal=D("4000000.00")))
    guarantee = create(user, agreement, borrower=data, amount=D("1500000.00"), loan_principal=D("1500000.00"))
    assert guarantee.single_borrower_amount == D("1500000.00")


def test_gu5_other_fees_are_flagged_not_corrected(user, agreement):
    guarantee = create(user, agreement, other_fees=D("2000.00"), fee_rate=D("0.02"))
    guarantee.refresh_from_db()
    assert guarantee.fee_compliant is False and guarantee.fee_rate == D("0.020000")
    assert guarantee.other_fees == D("2000.00")
    assert {(p["rule"], p["field"]) for p in guarantee.problems} == {("GU-5", "fee_rate"), ("GU-5", "other_fees")}


def test_gu5_no_cap_for_a_large_enterprise(user, agreement):
    borrower = BorrowerDataFactory(size_entered="large")
    guarantee = create(user, agreement, borrower=borrower, fee_rate=D("0.03"), other_fees=D("100.00"))
    assert guarantee.small_micro_or_agri is False and guarantee.fee_compliant is True


def test_gu5_agricultural_borrower_is_capped(user, agreement):
    borrower = BorrowerDataFactory(size_entered="large", is_agricultural=True)
    guarantee = create(user, agreement, borrower=borrower, fee_rate=D("0.011"))
    assert guarantee.small_micro_or_agri is True and guarantee.fee_compliant is False


@pytest.mark.parametrize(
    ("purpose", "platform", "fields"),
    [("government_bond", False, ["purpose"]), ("government_platform", False, ["purpose"]),
     ("operations", True, ["borrower"]), ("government_bond", True, ["purpose", "borrower"])],
)
def test_gu12_forbidden_business_is_refused_and_nothing_saved(user, agreement, purpose, platform, fields):
    with pytest.raises(RuleViolation) as exc:
        create(user, agreement, borrower=BorrowerDataFactory(is_government_platform=platform), purpose=purpose)
    assert set(rules_of(exc)) == {"GU-12"} and fields_of(exc) == fields
    assert not Guarantee.objects.exists() and not Borrower.objects.exists() and not AuditEvent.objects.exists()


def test_gu12_and_input_problems_are_reported_together_so_a_form_shows_them_at_once(user, agreement):
    borrower = BorrowerDataFactory(id_number="91110000ABCDEFGHJ0")
    with pytest.raises(RuleViolation) as exc:
        create(user, agreement, borrower=borrower, purpose="government_bond", amount=D("2000000.00"),
               loan_principal=D("1000000.00"))
    assert set(fields_of(exc)) >= {"purpose", "amount", "borrower.id_number"}
    assert not Guarantee.objects.exists() and not Borrower.objects.exists()


def test_gu11_enterprise_size_derived_from_figures(user, agreement):
    borrower = BorrowerDataFactory(size_entered="", size_evidence="", industry="retail", employees=40,
                                   revenue=D("6000000.00"))
    guarantee = create(user, agreement, borrower=borrower)
    assert guarantee.borrower.size_derived == "small" and guarantee.small_micro_or_agri is True


@pytest.mark.parametrize(
    ("borrower", "field"),
    [({"size_entered": "", "size_evidence": ""}, "borrower.size_entered"),
     ({"size_entered": "small", "size_evidence": " "}, "borrower.size_evidence"),
     ({"industry": "mining"}, "borrower.industry")],
)
def test_gu11_enterprise_size_needs_figures_or_evidence(user, agreement, borrower, field):
    with pytest.raises(RuleViolation) as exc:
        create(user, agreement, borrower=BorrowerDataFactory(**borrower))
    assert rules_of(exc) == ["GU-11"] and fields_of(exc) == [field]


def test_borrower_identifier_is_validated(user, agreement):
    with pytest.raises(RuleViolation) as exc:
        create(user, agreement, borrower=BorrowerDataFactory(id_number="91110000000000000X"))
    assert fields_of(exc) == ["borrower.id_number"]
    person = BorrowerDataFactory(id_kind="id_card", id_number="11010519491231002X", kind="owner", size_entered="",
                                 size_evidence="")
    assert create(user, agreement, borrower=person).borrower.id_number == "11010519491231002X"


def test_guarantee_input_is_checked(user, agreement):
    with pytest.raises(RuleViolation) as exc:
        create(user, agreement, amount=D("2000000.00"), loan_maturity=date(2024, 1, 1), start=date(2023, 6, 1),
               end=date(2023, 5, 1))
    assert fields_of(exc) == ["amount", "loan_maturity", "end", "start"]
    create(user, agreement, contract_no="DUP")
    with pytest.raises(RuleViolation) as exc:
        create(user, agreement, contract_no="DUP")
    assert fields_of(exc) == ["contract_no"]


def test_guarantee_create_needs_the_firms_operator(user, agreement):
    with pytest.raises(PermissionDenied):
        services.guarantee_create(user=bank_user(organisation=agreement.bank), agreement=agreement,
                                  borrower=BorrowerDataFactory(), data=GuaranteeDataFactory())
    assert not Guarantee.objects.exists()


def test_guarantee_create_with_an_existing_borrower_row(user, agreement):
    borrower = BorrowerFactory(owner=agreement.firm, is_agricultural=True)
    guarantee = services.guarantee_create(user=user, agreement=agreement, borrower=borrower, data=GuaranteeDataFactory())
    assert guarantee.borrower == borrower and guarantee.small_micro_or_agri is True


# --- bulk -------------------------------------------------------------------------------------


def row(n, agreement, **data):
    return {"row": n, "agreement_code": agreement.code, "borrower": BorrowerDataFactory(), "data": GuaranteeDataFactory(**data)}


def test_bulk_create_is_all_or_nothing_and_lists_every_error(user, agreement):
    rows = [
        row(1, agreement),
        row(2, agreement, purpose="government_bond"),
        {"row": 3, "agreement_code": "NO-SUCH", "borrower": BorrowerDataFactory(), "data": GuaranteeDataFactory()},
        row(4, agreement, amount=D("2000000.00")),
        {"row": 5, "errors": [RowError(5, "fee_rate", "INPUT", "not a number")]},
    ]
    with pytest.raises(BulkRejected) as exc:
        services.guarantee_bulk_create(user=user, firm=agreement.firm, rows=rows)
    assert [(e.row, e.rule, e.column) for e in exc.value.errors] == [
        (2, "GU-12", "purpose"), (3, "INPUT", "agreement_code"), (4, "INPUT", "amount"), (5, "INPUT", "fee_rate"),
    ]
    assert not Guarantee.objects.exists() and not Borrower.objects.exists()
    created = services.guarantee_bulk_create(user=user, firm=agreement.firm, rows=[row(1, agreement), row(2, agreement)])
    assert len(created) == 2 and Guarantee.objects.count() == 2


def test_bulk_create_needs_the_firms_operator(agreement):
    with pytest.raises(PermissionDenied):
        services.guarantee_bulk_create(user=bank_user(), firm=agreement.firm, rows=[row(1, agreement)])


# --- release, default, compensation (GU-3, GU-4) ----------------------------------------------


@pytest.fixture
def guarantee(user, agreement):
    return create(user, agreement)


def test_release_ends_the_liability_and_audits_the_transition(user, guarantee):
    released = services.guarantee_release(user=user, guarantee=guarantee, released_on=date(2025, 2, 28))
    assert released.status == Guarantee.Status.RELEASED and released.closed_on == date(2025, 2, 28)
    [event] = audits(guarantee, AuditEvent.Action.TRANSITION)
    assert (event.before["status"], event.after["status"]) == ("active", "released")
    assert event.before["closed_on"] is None and event.after["closed_on"] == "2025-02-28"


def test_release_twice_is_a_conflict(user, guarantee):
    services.guarantee_release(user=user, guarantee=guarantee, released_on=date(2025, 2, 28))
    with pytest.raises(Conflict):
        services.guarantee_release(user=user, guarantee=guarantee, released_on=date(2025, 2, 28))


def test_release_date_before_start_is_refused(user, guarantee):
    with pytest.raises(RuleViolation) as exc:
        services.guarantee_release(user=user, guarantee=guarantee, released_on=date(2024, 2, 1))
    assert fields_of(exc) == ["released_on"]


def test_gu3_gu4_default_allocates_the_loss_and_sets_the_due_date(user, guarantee):
    compensation = services.guarantee_default(user=user, guarantee=guarantee, default_on=date(2024, 9, 10),
                                              principal=D("800000.01"), interest=D("1000"), penalty_interest=D("99"))
    assert compensation.base == D("800000.01")  # interest outside the base by default, penalty never in it
    parts = compensation.parts()
    assert sum(parts.values()) == compensation.base
    assert parts == {"bank": D("160000.00"), "guarantee_firm": D("320000.01"), "reguarantee": D("160000.00"),
                     "national_fund": D("160000.00"), "government": D("0.00")}
    assert compensation.due_on == date(2024, 9, 10) + timedelta(days=30)
    assert compensation.shares["bank"] == "0.200000"
    guarantee.refresh_from_db()
    assert guarantee.status == Guarantee.Status.DEFAULTED
    [transition] = audits(guarantee, AuditEvent.Action.TRANSITION)
    assert (transition.before["status"], transition.after["status"]) == ("active", "defaulted")
    assert audits(compensation, AuditEvent.Action.CREATE)[0].after["base"] == "800000.01"


def test_gu3_loss_base_includes_interest_where_the_agreement_says(user, firm, bank):
    agreement = AgreementFactory(firm=firm, bank=bank, loss_base_includes_interest=True, grace_days=0,
                                 share_bank=D("0.333333"), share_firm=D("0.333334"), share_reguarantee=D("0.333333"),
                                 share_national_fund=D("0"))
    compensation = services.guarantee_default(user=user, guarantee=create(user, agreement), default_on=date(2024, 9, 10),
                                              principal=D("100.00"), interest=D("0.01"), penalty_interest=D("5"))
    assert compensation.base == D("100.01")
    assert sum(compensation.parts().values()) == D("100.01")
    assert compensation.due_on == date(2024, 9, 10)  # GU-4 with 0 days' grace


def test_a_released_guarantee_cannot_default(user, guarantee):
    services.guarantee_release(user=user, guarantee=guarantee, released_on=date(2024, 12, 31))
    with pytest.raises(Conflict) as exc:
        services.guarantee_default(user=user, guarantee=guarantee, default_on=date(2025, 1, 10), principal=D("1.00"))
    assert exc.value.status_code == 409
    assert not Compensation.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "rule", "field"),
    [({"principal": D("0")}, "GU-3", "principal"), ({"principal": D("1000000.01")}, "GU-3", "principal"),
     ({"principal": D("1"), "interest": D("-1")}, "GU-3", "interest"),
     ({"principal": D("1"), "default_on": date(2024, 1, 1)}, "INPUT", "default_on")],
)
def test_gu3_default_input_is_checked(user, guarantee, kwargs, rule, field):
    with pytest.raises(RuleViolation) as exc:
        services.guarantee_default(user=user, guarantee=guarantee, **{"default_on": date(2024, 9, 10), **kwargs})
    assert rules_of(exc) == [rule] and fields_of(exc) == [field]
    guarantee.refresh_from_db()
    assert guarantee.status == Guarantee.Status.ACTIVE


@pytest.fixture
def compensation(user, guarantee):
    return services.guarantee_default(user=user, guarantee=guarantee, default_on=date(2024, 9, 10), principal=D("800000.00"))


def test_gu3_pay_the_bank_all_but_its_own_part(user, compensation):
    paid = services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 10, 8))
    assert paid.paid_amount == D("640000.00") and paid.paid_on == date(2024, 10, 8)
    assert paid.guarantee.status == Guarantee.Status.COMPENSATED
    guarantee = Guarantee.objects.get(pk=compensation.guarantee_id)
    assert guarantee.status == Guarantee.Status.COMPENSATED and guarantee.closed_on == date(2024, 10, 8)
    [event] = audits(compensation, AuditEvent.Action.TRANSITION)
    assert event.before["paid_on"] is None and event.after["paid_amount"] == "640000.00"


def test_pay_twice_is_a_conflict(user, compensation):
    services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 10, 8))
    with pytest.raises(Conflict):
        services.compensation_pay(user=user, compensation=Compensation.objects.get(pk=compensation.pk),
                                  paid_on=date(2024, 10, 9))
    assert Compensation.objects.get(pk=compensation.pk).paid_on == date(2024, 10, 8)


def test_pay_before_the_default_is_refused(user, compensation):
    with pytest.raises(RuleViolation) as exc:
        services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 9, 1))
    assert fields_of(exc) == ["paid_on"]


def test_pay_needs_the_firms_operator(compensation):
    with pytest.raises(PermissionDenied):
        services.compensation_pay(user=bank_user(organisation=compensation.guarantee.bank), compensation=compensation,
                                  paid_on=date(2024, 10, 8))


# --- recovery and write-off (GU-13) -----------------------------------------------------------


@pytest.fixture
def paid(user, compensation):
    return services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 10, 8))


def test_gu13_recovery_needs_the_payment_first(user, compensation):
    with pytest.raises(RuleViolation) as exc:
        services.recovery_record(user=user, compensation=compensation, received_on=date(2024, 11, 1), gross=D("1"),
                                 source="borrower")
    assert rules_of(exc) == ["GU-13"]
    with pytest.raises(RuleViolation) as exc:
        services.recovery_action_record(user=user, compensation=compensation, on=date(2024, 11, 1), kind="litigation")
    assert rules_of(exc) == ["GU-13"]


def test_gu13_recovery_action_moves_to_recovering(user, paid):
    action = services.recovery_action_record(user=user, compensation=paid, on=date(2024, 10, 20), kind="litigation")
    assert Guarantee.objects.get(pk=paid.guarantee_id).status == Guarantee.Status.RECOVERING
    assert audits(action, AuditEvent.Action.CREATE)


def test_gu13_recovery_is_shared_back_by_the_split(user, paid):
    recovery = services.recovery_record(user=user, compensation=paid, received_on=date(2024, 11, 1), gross=D("100000.01"),
                                        cost_litigation=D("5000"), cost_enforcement=D("0.01"), source="collateral_sale")
    assert recovery.net == D("95000.00") and recovery.after_write_off is False
    assert (recovery.part_bank, recovery.part_firm, recovery.part_reguarantee, recovery.part_national_fund) == (
        D("19000.00"), D("38000.00"), D("19000.00"), D("19000.00"))
    assert Guarantee.objects.get(pk=paid.guarantee_id).status == Guarantee.Status.RECOVERING
    [event] = audits(recovery)
    assert event.after["net"] == "95000.00"


def test_gu13_costs_above_the_gross_leave_nothing_to_share(user, paid):
    recovery = services.recovery_record(user=user, compensation=paid, received_on=date(2024, 11, 1), gross=D("100"),
                                        cost_litigation=D("150"), source="borrower")
    assert recovery.net == D("0.00") and recovery.part_firm == D("0.00")


def test_gu13_full_recovery_closes_the_guarantee(user, paid):
    services.recovery_record(user=user, compensation=paid, received_on=date(2024, 11, 1), gross=D("800000.00"),
                             source="borrower")
    assert Guarantee.objects.get(pk=paid.guarantee_id).status == Guarantee.Status.RECOVERED


def test_gu13_recovery_date_before_payment_is_refused(user, paid):
    with pytest.raises(RuleViolation) as exc:
        services.recovery_record(user=user, compensation=paid, received_on=date(2024, 10, 1), gross=D("1"), source="borrower")
    assert fields_of(exc) == ["received_on"]


def test_gu13_write_off_needs_a_recovery_effort(user, paid):
    with pytest.raises(RuleViolation) as exc:
        services.compensation_write_off(user=user, compensation=paid, on=date(2024, 12, 31))
    assert rules_of(exc) == ["GU-13"] and not isinstance(exc.value, Conflict)
    assert Compensation.objects.get(pk=paid.pk).written_off_on is None
    services.recovery_action_record(user=user, compensation=paid, on=date(2024, 10, 20), kind="collection_notice")
    written_off = services.compensation_write_off(user=user, compensation=paid, on=date(2024, 12, 31))
    assert written_off.written_off_amount == D("800000.00") and written_off.written_off_on == date(2024, 12, 31)
    assert written_off.guarantee.status == Guarantee.Status.WRITTEN_OFF
    [event] = audits(paid, AuditEvent.Action.TRANSITION)[1:]
    assert event.before["written_off_on"] is None and event.after["written_off_amount"] == "800000.00"


def test_gu13_a_recovery_counts_as_effort_and_reduces_the_write_off(user, paid):
    services.recovery_record(user=user, compensation=paid, received_on=date(2024, 11, 1), gross=D("300000"), source="borrower")
    written_off = services.compensation_write_off(user=user, compensation=paid, on=date(2024, 12, 31))
    assert written_off.written_off_amount == D("500000.00")


def test_gu13_write_off_twice_is_a_conflict(user, paid):
    services.recovery_action_record(user=user, compensation=paid, on=date(2024, 10, 20), kind="negotiation")
    services.compensation_write_off(user=user, compensation=paid, on=date(2024, 12, 31))
    with pytest.raises(Conflict) as exc:
        services.compensation_write_off(user=user, compensation=paid, on=date(2025, 1, 31))
    assert exc.value.rule == "GU-13"


def test_gu13_recovery_after_write_off_is_flagged_and_shared_back(user, paid):
    services.recovery_action_record(user=user, compensation=paid, on=date(2024, 10, 20), kind="litigation")
    services.compensation_write_off(user=user, compensation=paid, on=date(2024, 12, 31))
    late = services.recovery_record(user=user, compensation=paid, received_on=date(2025, 6, 1), gross=D("10000.03"),
                                    source="counter_guarantor")
    assert late.after_write_off is True
    parts = (late.part_bank, late.part_firm, late.part_reguarantee, late.part_national_fund, late.part_government)
    assert sum(parts) == D("10000.03")
    assert parts == (D("2000.01"), D("4000.01"), D("2000.01"), D("2000.00"), D("0.00"))
    assert Guarantee.objects.get(pk=paid.guarantee_id).status == Guarantee.Status.WRITTEN_OFF
    assert Recovery.objects.filter(after_write_off=True).count() == 1


# --- firm figures (GU-8) ----------------------------------------------------------------------


def test_net_assets_record_creates_then_replaces_with_audit(user, firm):
    row = services.net_assets_record(user=user, firm=firm, as_of=date(2024, 12, 31), net_assets="300000000")
    assert row.net_assets == D("300000000.00")
    again = services.net_assets_record(user=user, firm=firm, as_of=date(2024, 12, 31), net_assets=D("310000000.005"))
    assert again.pk == row.pk and FirmNetAssets.objects.get().net_assets == D("310000000.01")
    create_event, update_event = audits(row)
    assert create_event.action == AuditEvent.Action.CREATE and create_event.before is None
    assert update_event.action == AuditEvent.Action.UPDATE
    assert (update_event.before["net_assets"], update_event.after["net_assets"]) == ("300000000.00", "310000000.01")


def test_gu8_net_assets_must_be_a_number(user, firm):
    with pytest.raises(RuleViolation) as exc:
        services.net_assets_record(user=user, firm=firm, as_of=date(2024, 12, 31), net_assets="lots")
    assert rules_of(exc) == ["GU-8"] and fields_of(exc) == ["net_assets"]


def test_net_assets_of_another_firm_is_refused(user):
    with pytest.raises(PermissionDenied):
        services.net_assets_record(user=user, firm=OrganisationFactory(kind="guarantee_firm"), as_of=date(2024, 12, 31),
                                   net_assets="1")


# --- concurrency ------------------------------------------------------------------------------



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_payments_of_the_same_compensation_at_once_exactly_one_succeeds():
    assert Role.objects.filter(code="firm_operator").exists() and RuleSet.objects.filter(scheme="guarantees").exists()
    user = firm_user()
    agreement = AgreementFactory(firm=user.organisation)
    guarantee = create(user, agreement)
    compensation = services.guarantee_default(user=user, guarantee=guarantee, default_on=date(2024, 9, 10),
                                              principal=D("800000.00"))
    start = threading.Barrier(2, timeout=10)
    outcomes: list = []

    def pay(paid_on: date) -> None:
        try:
            # Each thread loads the row itself (status: defaulted), then both pay together.
            mine = Compensation.objects.select_related("guarantee__firm").get(pk=compensation.pk)
            start.wait()
            services.compensation_pay(user=user, compensation=mine, paid_on=paid_on)
            outcomes.append("paid")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # reported by the assertion below
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(date(2024, 10, day),)) for day in (8, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, outcomes)) == ["conflict", "paid"], outcomes
    compensation.refresh_from_db()
    assert compensation.paid_amount == D("640000.00") and compensation.paid_on in (date(2024, 10, 8), date(2024, 10, 9))
    assert Guarantee.objects.get(pk=guarantee.pk).closed_on == compensation.paid_on
    assert len(audits(compensation, AuditEvent.Action.TRANSITION)) == 1
