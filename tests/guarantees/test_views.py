"""Browser pages of guarantees, agreements and compensations (guarantees/views.py)."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from openpyxl import load_workbook

from core.errors import Problem, RuleViolation
from core.models import AuditEvent
from core.templatetags.money import money, percent, plain_percent, times, wan, wan_number
from core.views_helpers import add_rule_violation, problem_message
from guarantees import services
from guarantees import urls as guarantee_urls
from guarantees.forms import GuaranteeForm, PercentField, percent_to_fraction
from guarantees.models import Agreement, Borrower, Compensation, FirmNetAssets, Guarantee
from tests.factories import AgreementFactory, UserFactory, firm_user, make_credit_code

pytestmark = pytest.mark.django_db

S = Guarantee.Status


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def alice():
    """A guarantee-firm operator: the owner of the rows."""
    return firm_user()


@pytest.fixture
def agreement(alice):
    return AgreementFactory(firm=alice.organisation, code="YD-ALICE-1")


@pytest.fixture
def bob(agreement):
    """An operator of the partner bank: sees the firm's business with his bank, writes nothing."""
    return UserFactory(organisation=agreement.bank, roles=["bank_operator"])


@pytest.fixture
def charlie():
    """An operator of another guarantee firm: sees nothing of alice's."""
    return firm_user()


def borrower_data(**overrides) -> services.BorrowerData:
    values = {
        "name": "顺达小微制造有限公司", "id_kind": Borrower.IdKind.CREDIT_CODE, "id_number": make_credit_code(),
        "kind": Borrower.Kind.ENTERPRISE, "industry": "industry", "employees": 50,
        "revenue": Decimal("5000000.00"), "total_assets": Decimal("3000000.00"),
    }
    values.update(overrides)
    return services.BorrowerData(**values)


def guarantee_data(n: int = 1, **overrides) -> services.GuaranteeData:
    values = {
        "contract_no": f"DB-2024-{n:04d}", "loan_principal": Decimal("1000000.00"), "amount": Decimal("800000.00"),
        "loan_start": date(2024, 3, 1), "loan_maturity": date(2025, 2, 28), "start": date(2024, 3, 1),
        "end": date(2025, 2, 28), "fee_rate": Decimal("0.008000"),
    }
    values.update(overrides)
    return services.GuaranteeData(**values)


def make_guarantee(user, agreement, n: int = 1, borrower=None, **overrides) -> Guarantee:
    return services.guarantee_create(
        user=user, agreement=agreement, borrower=borrower or borrower_data(), data=guarantee_data(n, **overrides)
    )


@pytest.fixture
def guarantee(alice, agreement):
    return make_guarantee(alice, agreement)


def compensate(user, guarantee, *, paid: bool = True) -> Compensation:
    compensation = services.guarantee_default(
        user=user, guarantee=guarantee, default_on=date(2024, 9, 1), principal=Decimal("500000.00"),
        interest=Decimal("1234.56"), penalty_interest=Decimal("99.00"),
    )
    if paid:
        compensation = services.compensation_pay(user=user, compensation=compensation, paid_on=date(2024, 9, 20))
    return compensation


@pytest.fixture
def compensation(alice, guarantee):
    return compensate(alice, guarantee)


def form_post(agreement, **overrides) -> dict:
    """What the browser sends from the new-guarantee form."""
    data = {
        "agreement": str(agreement.pk),
        "borrower_name": "顺达小微制造有限公司",
        "id_kind": "credit_code",
        "id_number": make_credit_code(),
        "borrower_kind": "enterprise",
        "industry": "industry",
        "employees": "50",
        "revenue": "5000000",
        "total_assets": "3000000",
        "size_entered": "",
        "size_evidence": "",
        "contract_no": "DB-FORM-0001",
        "loan_principal": "1000000",
        "amount": "800000",
        "currency": "CNY",
        "loan_start": "2024-03-01",
        "loan_maturity": "2025-02-28",
        "start": "2024-03-01",
        "end": "2025-02-28",
        "fee_rate": "0.8",
        "other_fees": "0",
        "purpose": "operations",
        "recommended_by_bank": "on",
    }
    data.update(overrides)
    return data


def field_errors(response, name: str) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(name, [])]


# --- pages render for the right people ------------------------------------------------------


@pytest.mark.parametrize("name", [
    "guarantee-list", "guarantee-create", "guarantee-import", "agreement-list", "agreement-create", "compensation-list",
])
def test_firm_operator_pages_render(client, alice, agreement, name):
    client.force_login(alice)
    response = client.get(reverse(f"guarantees:{name}"))
    assert response.status_code == 200


def test_object_pages_render_for_the_firm(client, alice, agreement, guarantee, compensation):
    client.force_login(alice)
    for url in (
        reverse("guarantees:guarantee-detail", args=[guarantee.pk]),
        reverse("guarantees:agreement-detail", args=[agreement.pk]),
        reverse("guarantees:agreement-edit", args=[agreement.pk]),
        reverse("guarantees:compensation-detail", args=[compensation.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert guarantee.contract_no in response.content.decode() or agreement.code in response.content.decode()


def test_bank_operator_reads_the_business_with_his_bank(client, bob, agreement, guarantee, compensation):
    client.force_login(bob)
    for url in (
        reverse("guarantees:guarantee-list"),
        reverse("guarantees:guarantee-detail", args=[guarantee.pk]),
        reverse("guarantees:agreement-list"),
        reverse("guarantees:agreement-detail", args=[agreement.pk]),
        reverse("guarantees:compensation-list"),
        reverse("guarantees:compensation-detail", args=[compensation.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("guarantees:guarantee-detail", args=[guarantee.pk])).content.decode()
    assert 'id="write-off-form"' not in page and 'id="recovery-form"' not in page


def test_pages_need_login(client, guarantee):
    for url in (reverse("guarantees:guarantee-list"), reverse("guarantees:guarantee-detail", args=[guarantee.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_empty_list_tells_a_firm_operator_how_to_start(client, alice):
    client.force_login(alice)
    page = client.get(reverse("guarantees:guarantee-list")).content.decode()
    assert 'id="empty-state"' in page
    assert reverse("guarantees:guarantee-create") in page and reverse("guarantees:agreement-create") in page


# --- recording a guarantee through the form -------------------------------------------------


def test_one_submission_lists_field_cross_field_and_checksum_errors_together(client, alice, agreement):
    """Issue 13.3: a bad amount, a wrong check character, a size without evidence and dates out of
    order all show on the first submission, each beside its field."""
    client.force_login(alice)
    good = make_credit_code()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(reverse("guarantees:guarantee-create"), form_post(
        agreement, loan_principal="abc", id_number=bad, size_entered="small", size_evidence="",
        loan_maturity="2024-01-01", end="2024-02-01"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"loan_principal", "id_number", "size_evidence", "loan_maturity", "end"} <= set(errors)
    assert not Guarantee.objects.filter(contract_no="DB-FORM-0001").exists()


def test_create_happy_path(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"), form_post(agreement))
    guarantee = Guarantee.objects.get(contract_no="DB-FORM-0001")
    assert response.status_code == 302
    assert response["Location"] == reverse("guarantees:guarantee-detail", args=[guarantee.pk])
    assert guarantee.firm == alice.organisation and guarantee.bank == agreement.bank
    assert guarantee.amount == Decimal("800000.00") and guarantee.fee_rate == Decimal("0.008000")
    assert guarantee.recommended_by_bank and guarantee.fee_compliant
    assert guarantee.borrower.size_derived == "small"  # GU-11 from industry, employees and revenue
    page = client.get(response["Location"]).content.decode()
    assert "DB-FORM-0001" in page and "800,000.00" in page and "0.80%" in page


@pytest.mark.parametrize("typed, stored", [
    ("0.8", "0.008000"), ("1", "0.010000"), ("1.15", "0.011500"), ("0.0001", "0.000001"), ("0.1", "0.001000"),
    ("1.4999", "0.014999"),
])
def test_fee_rate_percentage_is_converted_exactly(typed, stored):
    value = PercentField().clean(typed)
    assert isinstance(value, Decimal) and value == Decimal(stored) and str(value) == stored
    assert percent_to_fraction(Decimal(typed)) == Decimal(stored)


def test_fee_rate_percentage_is_stored_exactly(client, alice, agreement):
    client.force_login(alice)
    client.post(reverse("guarantees:guarantee-create"), form_post(agreement, fee_rate="0.8"))
    stored = Guarantee.objects.get(contract_no="DB-FORM-0001").fee_rate
    assert stored == Decimal("0.008000") and str(stored) == "0.008000"


def test_fee_rate_with_more_than_four_places_is_refused_not_rounded(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"), form_post(agreement, fee_rate="0.80001"))
    assert response.status_code == 400 and field_errors(response, "fee_rate")
    assert not Guarantee.objects.exists()


def test_amount_above_principal_is_shown_next_to_the_field_and_saves_nothing(client, alice, agreement):
    client.force_login(alice)
    before = (Guarantee.objects.count(), Borrower.objects.count(), AuditEvent.objects.count())
    response = client.post(reverse("guarantees:guarantee-create"),
                           form_post(agreement, amount="1500000", borrower_name="宏发商贸"))
    assert response.status_code == 400
    assert field_errors(response, "amount") == ["The guaranteed amount cannot exceed the loan principal."]
    page = response.content.decode()
    # The message sits inside the amount field's block, and everything typed is kept.
    block = page[page.index('id="id_amount"'):]
    assert block.index("cannot exceed the loan principal") < block.index('id="id_currency"')
    assert 'value="1500000"' in page and 'value="宏发商贸"' in page and 'value="0.8"' in page
    assert 'value="DB-FORM-0001"' in page
    assert (Guarantee.objects.count(), Borrower.objects.count(), AuditEvent.objects.count()) == before


def test_gu12_forbidden_purpose_is_refused_with_its_rule_id(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"), form_post(agreement, purpose="government_bond"))
    assert response.status_code == 400
    assert field_errors(response, "purpose") == [
        "GU-12: A government guarantee firm may not guarantee a government bond issue."
    ]
    assert not Guarantee.objects.exists() and not Borrower.objects.exists()


def test_gu12_government_platform_borrower_error_sits_on_the_platform_flag(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"),
                           form_post(agreement, is_government_platform="on"))
    assert response.status_code == 400
    assert field_errors(response, "is_government_platform")[0].startswith("GU-12: ")
    assert not Guarantee.objects.exists()


def test_bad_credit_code_shows_next_to_the_identifier(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"), form_post(agreement, id_number="91110000ABCDEFGHJ0"))
    assert response.status_code == 400 and field_errors(response, "id_number")
    assert not Guarantee.objects.exists()


def test_another_firms_agreement_is_not_a_choice(client, alice, agreement, charlie):
    foreign = AgreementFactory(firm=charlie.organisation)
    client.force_login(alice)
    data = form_post(agreement)
    data["agreement"] = str(foreign.pk)
    response = client.post(reverse("guarantees:guarantee-create"), data)
    assert response.status_code == 400 and field_errors(response, "agreement")
    assert not Guarantee.objects.exists()


def test_gu5_fee_breach_is_saved_and_flagged_on_the_detail(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-create"), form_post(agreement, fee_rate="1.2", other_fees="500"))
    guarantee = Guarantee.objects.get()
    assert response.status_code == 302 and not guarantee.fee_compliant
    assert {p["field"] for p in guarantee.problems} == {"fee_rate", "other_fees"}
    page = client.get(response["Location"]).content.decode()
    assert 'id="fee-problems"' in page and "1.2%" in page and "GU-5" in page


# --- other organisations: 404; the wrong role: 403 ------------------------------------------

# Every URL of guarantees/urls.py that names an object, with the method that reaches it.
OBJECT_URLS = {
    "guarantee-detail": ("get", "guarantee"),
    "guarantee-release": ("post", "guarantee"),
    "guarantee-default": ("post", "guarantee"),
    "agreement-detail": ("get", "agreement"),
    "agreement-edit": ("get", "agreement"),
    "compensation-detail": ("get", "compensation"),
    "compensation-pay": ("post", "compensation"),
    "compensation-recovery-action": ("post", "compensation"),
    "compensation-recovery": ("post", "compensation"),
    "compensation-write-off": ("post", "compensation"),
}


def test_every_object_url_is_in_the_refusal_table():
    with_pk = {p.name for p in guarantee_urls.pages if isinstance(p, URLPattern) and "pk" in str(p.pattern)}
    assert with_pk == set(OBJECT_URLS)


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
def test_another_organisations_user_gets_404(client, alice, agreement, guarantee, charlie, name):
    compensation = compensate(alice, guarantee, paid=False)
    method, kind = OBJECT_URLS[name]
    obj = {"guarantee": guarantee, "agreement": agreement, "compensation": compensation}[kind]
    client.force_login(charlie)
    response = getattr(client, method)(reverse(f"guarantees:{name}", args=[obj.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
def test_a_missing_row_is_404_too(client, alice, name):
    method, _kind = OBJECT_URLS[name]
    client.force_login(alice)
    assert getattr(client, method)(reverse(f"guarantees:{name}", args=[999999])).status_code == 404


def test_another_firms_rows_are_not_listed(client, guarantee, charlie, alice):
    compensate(alice, guarantee)
    client.force_login(charlie)
    assert guarantee.contract_no not in client.get(reverse("guarantees:guarantee-list")).content.decode()
    assert guarantee.contract_no not in client.get(reverse("guarantees:compensation-list")).content.decode()
    assert "YD-ALICE-1" not in client.get(reverse("guarantees:agreement-list")).content.decode()
    response = client.get(reverse("guarantees:guarantee-export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1


@pytest.mark.parametrize("name, method", [
    ("guarantee-create", "get"), ("guarantee-create", "post"), ("guarantee-import", "get"),
    ("guarantee-import", "post"), ("guarantee-import-template", "get"), ("agreement-create", "get"),
    ("agreement-create", "post"), ("net-assets", "post"),
])
def test_bank_operator_gets_403_on_firm_pages(client, bob, name, method):
    client.force_login(bob)
    assert getattr(client, method)(reverse(f"guarantees:{name}")).status_code == 403


@pytest.mark.parametrize("name", [
    "guarantee-release", "guarantee-default", "compensation-pay", "compensation-recovery-action",
    "compensation-recovery", "compensation-write-off", "agreement-edit",
])
def test_bank_operator_gets_403_on_actions(client, alice, bob, agreement, guarantee, name):
    compensation = compensate(alice, guarantee, paid=False)
    obj = {"guarantee": guarantee, "agreement": agreement, "compensation": compensation}[OBJECT_URLS[name][1]]
    client.force_login(bob)
    response = client.post(reverse(f"guarantees:{name}", args=[obj.pk]), {})
    assert response.status_code == 403
    assert Guarantee.objects.get(pk=guarantee.pk).status == S.DEFAULTED


def test_a_firm_user_without_the_operator_role_gets_403(client, alice):
    reader = UserFactory(organisation=alice.organisation, roles=[])
    client.force_login(reader)
    assert client.get(reverse("guarantees:guarantee-create")).status_code == 403


# --- status actions -------------------------------------------------------------------------


def test_release(client, alice, guarantee):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-release", args=[guarantee.pk]),
                           {"release-released_on": "2025-02-28"})
    assert response.status_code == 302
    guarantee.refresh_from_db()
    assert guarantee.status == S.RELEASED and guarantee.closed_on == date(2025, 2, 28)


def test_release_before_start_shows_the_error_on_the_form(client, alice, guarantee):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-release", args=[guarantee.pk]),
                           {"release-released_on": "2020-01-01"})
    assert response.status_code == 400
    assert response.context["release_form"].errors["released_on"] == ["The release date is before the guarantee start."]
    assert Guarantee.objects.get(pk=guarantee.pk).status == S.ACTIVE


def test_default_pay_recover_and_write_off(client, alice, guarantee):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-default", args=[guarantee.pk]), {
        "default-default_on": "2024-09-01", "default-principal": "500000.01", "default-interest": "100",
        "default-penalty_interest": "",
    })
    assert response.status_code == 302
    compensation = Compensation.objects.get(guarantee=guarantee)
    assert compensation.base == Decimal("500000.01")  # interest is not in this agreement's base
    assert sum(compensation.parts().values()) == compensation.base
    assert compensation.due_on == date(2024, 10, 1)  # GU-4: 30 days of grace
    page = client.get(reverse("guarantees:guarantee-detail", args=[guarantee.pk])).content.decode()
    assert 'id="parts-table"' in page and 'id="pay-form"' in page and "2024-10-01" in page
    assert 'id="overdue-badge"' in page  # unpaid long after 2024-10-01

    assert client.post(reverse("guarantees:compensation-pay", args=[compensation.pk]),
                       {"pay-paid_on": "2024-09-20"}).status_code == 302
    assert client.post(reverse("guarantees:compensation-recovery-action", args=[compensation.pk]),
                       {"action-on": "2024-10-10", "action-kind": "litigation", "action-note": "起诉"}).status_code == 302
    assert client.post(reverse("guarantees:compensation-recovery", args=[compensation.pk]), {
        "recovery-received_on": "2024-12-01", "recovery-gross": "10000", "recovery-source": "borrower",
        "recovery-cost_litigation": "1000",
    }).status_code == 302
    recovery = compensation.recoveries.get()
    assert recovery.net == Decimal("9000.00") and recovery.part_firm == Decimal("3600.00")
    page = client.get(reverse("guarantees:guarantee-detail", args=[guarantee.pk])).content.decode()
    assert 'id="write-off-form"' in page and 'id="recoveries-table"' in page and "3,600.00" in page

    response = client.post(reverse("guarantees:compensation-write-off", args=[compensation.pk]),
                           {"writeoff-on": "2025-01-15", "writeoff-confirm": "on"})
    assert response.status_code == 302
    compensation.refresh_from_db()
    assert compensation.written_off_on == date(2025, 1, 15)
    assert compensation.written_off_amount == Decimal("491000.01")
    assert Guarantee.objects.get(pk=guarantee.pk).status == S.WRITTEN_OFF
    history = client.get(reverse("guarantees:guarantee-detail", args=[guarantee.pk])).context["audit_events"]
    assert {e.object_type for e in history} == {"guarantees.guarantee", "guarantees.compensation"}


def test_write_off_without_the_confirmation_is_refused(client, alice, guarantee, compensation):
    services.recovery_action_record(user=alice, compensation=compensation, on=date(2024, 10, 1), kind="negotiation")
    client.force_login(alice)
    response = client.post(reverse("guarantees:compensation-write-off", args=[compensation.pk]),
                           {"writeoff-on": "2025-01-15"})
    assert response.status_code == 400
    assert response.context["write_off_form"].errors["confirm"] == ["Tick the confirmation to write the compensation off."]
    compensation.refresh_from_db()
    assert compensation.written_off_on is None
    assert Guarantee.objects.get(pk=guarantee.pk).status == S.RECOVERING


def test_write_off_without_recovery_effort_shows_gu13(client, alice, guarantee, compensation):
    client.force_login(alice)
    response = client.post(reverse("guarantees:compensation-write-off", args=[compensation.pk]),
                           {"writeoff-on": "2025-01-15", "writeoff-confirm": "on"})
    assert response.status_code == 400
    assert response.context["write_off_form"].non_field_errors() == [
        "GU-13: Record at least one recovery effort before writing the compensation off."
    ]
    assert Compensation.objects.get(pk=compensation.pk).written_off_on is None


def test_a_step_not_allowed_in_the_state_is_a_conflict(client, alice, guarantee):
    services.guarantee_release(user=alice, guarantee=guarantee, released_on=date(2025, 1, 1))
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-default", args=[guarantee.pk]), {
        "default-default_on": "2025-02-01", "default-principal": "1",
    })
    assert response.status_code == 409
    assert "This step is not allowed from the state" in response.content.decode()
    assert not Compensation.objects.exists()


def test_net_assets_recorded_by_the_firm(client, alice):
    client.force_login(alice)
    response = client.post(reverse("guarantees:net-assets"), {"na-as_of": "2024-12-31", "na-net_assets": "250000000"})
    assert response.status_code == 302
    row = FirmNetAssets.objects.get(firm=alice.organisation)
    assert row.as_of == date(2024, 12, 31) and row.net_assets == Decimal("250000000.00")
    assert "250,000,000.00" in client.get(reverse("guarantees:guarantee-list")).content.decode()


# --- list, filters, sorting, export, query count --------------------------------------------


@pytest.fixture
def portfolio(alice, agreement):
    """Four guarantees: two banks, one released, one with a GU-5 breach."""
    other_bank = AgreementFactory(firm=alice.organisation, code="YD-ALICE-2")
    rows = [
        make_guarantee(alice, agreement, 1, borrower=borrower_data(name="甲公司"), amount=Decimal("100000.00"),
                       start=date(2024, 1, 10)),
        make_guarantee(alice, agreement, 2, borrower=borrower_data(name="乙公司"), amount=Decimal("900000.00"),
                       start=date(2024, 5, 10), fee_rate=Decimal("0.012000")),
        make_guarantee(alice, other_bank, 3, borrower=borrower_data(name="丙公司"), amount=Decimal("500000.00"),
                       start=date(2024, 8, 10)),
        make_guarantee(alice, other_bank, 4, borrower=borrower_data(name="丁公司"), amount=Decimal("300000.00"),
                       start=date(2024, 11, 10)),
    ]
    services.guarantee_release(user=alice, guarantee=rows[3], released_on=date(2025, 1, 1))
    return rows


def listed(response) -> list[str]:
    return [g.contract_no for g in response.context["guarantees"]]


def test_list_filters_keep_their_values(client, alice, agreement, portfolio):
    client.force_login(alice)
    url = reverse("guarantees:guarantee-list")
    assert listed(client.get(url)) == ["DB-2024-0004", "DB-2024-0003", "DB-2024-0002", "DB-2024-0001"]
    assert listed(client.get(url, {"status": "released"})) == ["DB-2024-0004"]
    assert listed(client.get(url, {"bank": agreement.bank_id})) == ["DB-2024-0002", "DB-2024-0001"]
    assert listed(client.get(url, {"fee": "breach"})) == ["DB-2024-0002"]
    assert listed(client.get(url, {"start_from": "2024-05-01", "start_to": "2024-08-31"})) == [
        "DB-2024-0003", "DB-2024-0002"]
    response = client.get(url, {"q": "丙公"})
    assert listed(response) == ["DB-2024-0003"]
    assert 'value="丙公"' in response.content.decode()
    assert listed(client.get(url, {"q": "2024-0001"})) == ["DB-2024-0001"]
    assert listed(client.get(url, {"sort": "amount"})) == ["DB-2024-0001", "DB-2024-0004", "DB-2024-0003", "DB-2024-0002"]
    assert listed(client.get(url, {"sort": "-amount"}))[0] == "DB-2024-0002"
    assert listed(client.get(url, {"sort": "start"}))[0] == "DB-2024-0001"
    assert listed(client.get(url, {"start_from": "not a date"})) == listed(client.get(url))


def test_list_badges(client, alice, portfolio):
    client.force_login(alice)
    page = client.get(reverse("guarantees:guarantee-list")).content.decode()
    assert page.count('>GU-5 breach</span>') == 1
    assert "badge badge-ok" in page


def test_export_rows_match_the_filter(client, alice, agreement, portfolio):
    client.force_login(alice)
    response = client.get(reverse("guarantees:guarantee-export"), {"bank": agreement.bank_id, "sort": "amount"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3
    assert [r[0] for r in rows[1:]] == ["DB-2024-0001", "DB-2024-0002"]
    assert rows[1][7] == 100000 and rows[2][13] == 1.2  # amount in yuan; fee rate in percent

    released = client.get(reverse("guarantees:guarantee-export"), {"status": "released"})
    rows = list(load_workbook(io.BytesIO(released.content)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["DB-2024-0004"]


def test_export_link_carries_the_filters(client, alice, portfolio):
    client.force_login(alice)
    page = client.get(reverse("guarantees:guarantee-list"), {"status": "active", "page": "1"}).content.decode()
    assert f'{reverse("guarantees:guarantee-export")}?status=active"' in page


def _list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_page(client, alice, agreement):
    other_bank = AgreementFactory(firm=alice.organisation)
    for n in range(3):
        make_guarantee(alice, agreement if n % 2 else other_bank, n)
    client.force_login(alice)
    url = reverse("guarantees:guarantee-list")
    client.get(url)  # warm the session and caches
    few = _list_queries(client, url)
    for n in range(3, 30):
        make_guarantee(alice, agreement if n % 2 else other_bank, n)
    many = _list_queries(client, url)
    assert len(client.get(url).context["guarantees"]) == 30
    assert few == many


def test_compensation_list_filters(client, alice, agreement):
    overdue = make_guarantee(alice, agreement, 1)
    paid = make_guarantee(alice, agreement, 2)
    compensate(alice, overdue, paid=False)
    compensate(alice, paid)
    client.force_login(alice)
    url = reverse("guarantees:compensation-list")

    def shown(**params):
        return [row["c"].guarantee.contract_no for row in client.get(url, params).context["rows"]]

    assert sorted(shown()) == ["DB-2024-0001", "DB-2024-0002"]
    assert shown(state="overdue") == ["DB-2024-0001"]
    assert shown(state="unpaid") == ["DB-2024-0001"]
    assert shown(state="written_off") == []


# --- agreements -----------------------------------------------------------------------------


def agreement_post(bank, **overrides) -> dict:
    data = {
        "bank": str(bank.pk), "code": "YD-NEW-1", "signed_on": "2024-01-01", "expires_on": "2026-12-31",
        "grace_days": "30", "deposit_ratio": "5", "batch_mode": "none",
        "shares_bank": "20", "shares_guarantee_firm": "40", "shares_reguarantee": "20", "shares_national_fund": "20",
        "shares_government": "",
    }
    data.update(overrides)
    return data


def test_agreement_create_converts_percentages_exactly(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:agreement-create"), agreement_post(agreement.bank,
                           shares_bank="20.5", shares_guarantee_firm="39.5"))
    created = Agreement.objects.get(code="YD-NEW-1")
    assert response.status_code == 302
    assert created.shares() == {
        "bank": Decimal("0.205000"), "guarantee_firm": Decimal("0.395000"), "reguarantee": Decimal("0.200000"),
        "national_fund": Decimal("0.200000"), "government": Decimal("0.000000"),
    }
    assert created.deposit_ratio == Decimal("0.050000") and created.compliant


def test_agreement_gu1_error_sits_with_the_shares_and_saves_nothing(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:agreement-create"), agreement_post(agreement.bank, shares_bank="10"))
    assert response.status_code == 400
    assert response.context["form"].errors["shares"] == ["GU-1: Shares must add up to exactly 1 (they add up to 0.9)."]
    page = response.content.decode()
    assert page.index('id="shares_errors"') > page.index('id="split-fieldset"')
    assert "The shares entered add up to 90%, not 100%." in page
    assert not Agreement.objects.filter(code="YD-NEW-1").exists()


def test_agreement_gu2_breach_is_stored_with_a_warning(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:agreement-create"), agreement_post(
        agreement.bank, shares_bank="10", shares_guarantee_firm="50"))
    created = Agreement.objects.get(code="YD-NEW-1")
    assert response.status_code == 302 and not created.compliant
    page = client.get(response["Location"]).content.decode()
    assert 'id="gu2-problems"' in page and "below the minimum of 20%" in page
    assert "Non-compliant" in client.get(reverse("guarantees:agreement-list")).content.decode()


def test_agreement_edit_shows_percentages_and_saves_a_new_split(client, alice, agreement):
    client.force_login(alice)
    url = reverse("guarantees:agreement-edit", args=[agreement.pk])
    form = client.get(url).context["form"]
    assert form["shares_bank"].value() == "20" and form["shares_guarantee_firm"].value() == "40"
    response = client.post(url, {
        "signed_on": "2024-01-01", "expires_on": "2027-12-31", "grace_days": "60", "deposit_ratio": "0",
        "batch_mode": "loan_first", "shares_bank": "25", "shares_guarantee_firm": "35", "shares_reguarantee": "20",
        "shares_national_fund": "20", "shares_government": "0",
    })
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.share_bank == Decimal("0.250000") and agreement.grace_days == 60
    assert agreement.expires_on == date(2027, 12, 31)
    assert AuditEvent.objects.filter(object_type="guarantees.agreement", action="update").exists()


# --- the helpers ----------------------------------------------------------------------------


class _BorrowerishForm(forms.Form):
    amount = forms.CharField(required=False)
    kind = forms.CharField(required=False)
    borrower_name = forms.CharField(required=False)


def test_rule_violation_lands_on_the_right_fields():
    form = _BorrowerishForm({})
    assert form.is_valid()
    add_rule_violation(form, RuleViolation.many([
        Problem("INPUT", "too much", "amount"),
        Problem("GU-11", "bad kind", "borrower.kind"),
        Problem("INPUT", "bad name", "borrower.name"),
        Problem("GU-13", "whole record", None),
        Problem("GU-1", "nowhere", "shares.bank"),
    ]))
    assert form.errors["amount"] == ["too much"]
    assert form.errors["kind"] == ["GU-11: bad kind"]
    assert form.errors["borrower_name"] == ["bad name"]
    assert form.non_field_errors() == ["GU-13: whole record", "GU-1: nowhere"]


def test_problem_message_shows_policy_rule_ids_only():
    assert problem_message(Problem("GU-5", "fee")) == "GU-5: fee"
    assert problem_message(Problem("RP-12", "x")) == "RP-12: x"
    assert problem_message(Problem("INPUT", "x")) == "x"
    assert problem_message(Problem("STATE", "x")) == "x"


def test_guarantee_form_field_map_covers_gu12_borrower():
    assert GuaranteeForm.FIELD_MAP["borrower"] in GuaranteeForm.base_fields


@pytest.mark.parametrize("value, shown", [
    (Decimal("1234567.891"), "1,234,567.89"), (Decimal("0"), "0.00"), ("-5.5", "-5.50"), (None, "—"), (12, "12.00"),
])
def test_money_filter(value, shown):
    assert money(value) == shown


def test_wan_and_percent_filters():
    assert wan(Decimal("1234567")) == "123.46 万元"
    assert wan(Decimal("5000000.00")) == "500.00 万元"
    # issue 13.4: a ratio always as a percentage with two decimals, rounded half-up
    assert percent(Decimal("0.008000")) == "0.80%"
    assert percent(Decimal("0.200000")) == "20.00%"
    assert percent(Decimal("0.123450")) == "12.35%"
    assert percent(Decimal("0.000049")) == "0.00%"
    assert percent(Decimal("0")) == "0.00%"
    assert percent(None) == "—"
    assert plain_percent(Decimal("0.011500")) == "1.15"


def test_wan_number_under_a_header_and_times_for_leverage():
    """Issue 13.4: 万元 without the unit where the column header names it; a multiple with two decimals."""
    assert wan_number(Decimal("1234567")) == "123.46" and wan_number(Decimal("123456789")) == "12,345.68"
    assert times(Decimal("3.456")) == "3.46" and times(Decimal("12")) == "12.00" and times(None) == "—"


def test_export_writes_a_typed_formula_as_text(client, alice, portfolio):
    """Issue 10 point 3: a contract number and a borrower name typed as a formula stay text."""
    from tests.spreadsheets import HOSTILE, assert_literal

    guarantee = Guarantee.objects.filter(firm=alice.organisation).first()
    Guarantee.objects.filter(pk=guarantee.pk).update(contract_no=HOSTILE)
    Borrower.objects.filter(pk=guarantee.borrower_id).update(name="@" + HOSTILE)
    client.force_login(alice)
    content = client.get(reverse("guarantees:guarantee-export")).content
    assert_literal(content)
    assert_literal(content, "@" + HOSTILE)
