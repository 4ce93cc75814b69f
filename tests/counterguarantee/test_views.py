"""The counterguarantee pages: the editor saves through the services and shows the check next to
the fields; approval stores the check; after-care; the authority's tables, CG-14 and the list of
plans that failed at approval. Every page refuses another firm's user (404 for its rows)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from core.calendar import shanghai_today
from core.models import AuditEvent, Organisation
from core.periods import add_months
from counterguarantee import services
from counterguarantee.models import BankPledgeRate, Measure, Plan
from guarantees.models import Guarantee
from tests.counterguarantee.factories import (
    draft_plan,
    ensure_tables,
    example_guarantee,
    guarantor_data,
    mortgage_data,
    operator_of,
    other_firm_user,
)
from tests.factories import RegionFactory, UserFactory, authority_user, bank_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tables():
    ensure_tables()


def authority_admin(region):
    return UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, organisation__region=region,
                       roles=["authority_admin"])


def _today_guarantee(**kwargs):
    today = shanghai_today()
    return example_guarantee(start=today - timedelta(days=10), loan_start=today - timedelta(days=10),
                             end=today + timedelta(days=300), loan_maturity=today + timedelta(days=300), **kwargs)


def _post_data(guarantee, measures: list[dict], **plan) -> dict:
    data = {"m-TOTAL_FORMS": str(len(measures)), "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "0",
            "m-MAX_NUM_FORMS": "1000", "adjustment_reason": "", "resolving_reason": ""}
    data.update(plan)
    for i, m in enumerate(measures):
        for k, v in m.items():
            data[f"m-{i}-{k}"] = v
    return data


def _mortgage_fields(guarantee, **overrides):
    today = shanghai_today()
    fields = {"kind": "mortgage", "asset_class": "real_estate", "value": "1000000.00", "rate": "0.7",
              "valuation_source": "approved_appraiser", "valued_on": (today - timedelta(days=5)).isoformat(),
              "valuation_valid_until": (today + timedelta(days=200)).isoformat(),
              "start": guarantee.start.isoformat(), "end": guarantee.end.isoformat(), "owners": "张三、王芳",
              "signatories": "张三、王芳", "contract_no": "DY-1", "registry": "real_estate",
              "registration_number": "鄂(2025)不动产证明第1号"}
    fields.update(overrides)
    return fields


def test_home_for_a_firm_lists_guarantees_without_plan(client):
    guarantee = _today_guarantee()
    client.force_login(operator_of(guarantee))
    response = client.get(reverse("counterguarantee:home"))
    assert response.status_code == 200
    assert reverse("counterguarantee:plan-edit", args=[guarantee.pk]) in response.content.decode()


def test_editor_saves_and_shows_each_rule_next_to_its_field(client):
    guarantee = _today_guarantee()
    user = operator_of(guarantee)
    client.force_login(user)
    url = reverse("counterguarantee:plan-edit", args=[guarantee.pk])
    assert client.get(url).status_code == 200
    data = _post_data(guarantee, [_mortgage_fields(guarantee, rate="0.6", signatories="张三")],
                      credit_grounds=["CG-1.2"])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = Plan.objects.get(guarantee=guarantee)
    assert plan.credit_grounds == ["CG-1.2"] and plan.measures.count() == 1
    assert plan.last_check["passed"] is False
    page = client.get(url).content.decode()
    assert 'data-rule="CG-6" data-outcome="fail"' in page
    assert "王芳" in page  # CG-10: the missing co-owner is named next to the signatories
    assert AuditEvent.objects.filter(object_type="counterguarantee.plan", object_id=str(plan.pk)).exists()


def test_editor_form_errors_are_shown_and_nothing_saved(client):
    guarantee = _today_guarantee()
    client.force_login(operator_of(guarantee))
    url = reverse("counterguarantee:plan-edit", args=[guarantee.pk])
    response = client.post(url, _post_data(guarantee, [_mortgage_fields(guarantee, asset_class="")]))
    assert response.status_code == 400
    assert not Plan.objects.filter(guarantee=guarantee).exists()


def test_approve_stores_the_check_and_it_stays_visible(client):
    guarantee = _today_guarantee()
    plan, user = draft_plan(guarantee, measures=[guarantor_data(start=guarantee.start, end=guarantee.end)],
                            on=shanghai_today())
    client.force_login(user)
    response = client.post(reverse("counterguarantee:plan-approve", args=[plan.pk]), {})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == Plan.Status.APPROVED and plan.approval_passed is True
    page = client.get(reverse("counterguarantee:plan-detail", args=[plan.pk])).content.decode()
    assert 'id="approval-results"' in page
    # the editor of an approved plan leads to the plan page
    assert client.get(reverse("counterguarantee:plan-edit", args=[guarantee.pk])).status_code == 302


def test_failing_plan_needs_a_reason_and_then_appears_on_the_authoritys_list(client):
    region = RegionFactory()
    guarantee = _today_guarantee(agreement__firm__region=region)
    plan, user = draft_plan(guarantee, measures=[mortgage_data(value=D("2000000.00"), start=guarantee.start,
                                                               end=guarantee.end, valued_on=shanghai_today(),
                                                               valuation_valid_until=guarantee.end)],
                            on=shanghai_today())
    client.force_login(user)
    url = reverse("counterguarantee:plan-approve", args=[plan.pk])
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"approval_note": "化解存量风险需要"}).status_code == 302
    plan.refresh_from_db()
    assert plan.approval_passed is False
    authority = authority_admin(region)
    client.force_login(authority)
    page = client.get(reverse("counterguarantee:failed")).content.decode()
    assert f'data-plan="{plan.pk}"' in page and "CG-7" in page


def test_after_care_release_and_enforcement(client):
    guarantee = _today_guarantee()
    plan, user = draft_plan(guarantee, measures=[
        guarantor_data(start=guarantee.start, end=guarantee.end),
        mortgage_data(start=guarantee.start, end=guarantee.end, valued_on=shanghai_today(),
                      valuation_valid_until=guarantee.end)], on=shanghai_today())
    services.plan_approve(user=user, plan=plan, on=shanghai_today())
    client.force_login(user)
    measure = plan.measures.get(position=1)
    prefix = f"i{measure.pk}"
    response = client.post(reverse("counterguarantee:measure-action", args=[measure.pk, "inspection"]),
                           {f"{prefix}-on": shanghai_today().isoformat(), f"{prefix}-finding": "normal"})
    assert response.status_code == 302 and measure.inspections.count() == 1
    Guarantee.objects.filter(pk=guarantee.pk).update(status=Guarantee.Status.COMPENSATED)
    x = f"x{measure.pk}"
    paid = shanghai_today() - timedelta(days=30)
    response = client.post(reverse("counterguarantee:measure-action", args=[measure.pk, "enforce"]),
                           {f"{x}-recourse_from": paid.isoformat()})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.status == Measure.Status.ENFORCED and measure.limitation_due_on == add_months(paid, 36)
    home = client.get(reverse("counterguarantee:home")).content.decode()
    assert f'data-measure="{measure.pk}"' not in home  # three years away: not coming due
    guarantor = plan.measures.get(position=0)
    long_ago = shanghai_today() - timedelta(days=120)  # six months after: about 60 days ahead
    client.post(reverse("counterguarantee:measure-action", args=[guarantor.pk, "enforce"]),
                {f"x{guarantor.pk}-recourse_from": long_ago.isoformat()})
    home = client.get(reverse("counterguarantee:home")).content.decode()
    assert f'data-measure="{guarantor.pk}"' in home
    a = f"a{guarantor.pk}"
    client.post(reverse("counterguarantee:measure-action", args=[guarantor.pk, "action"]),
                {f"{a}-on": shanghai_today().isoformat(), f"{a}-kind": "demand_notice"})
    guarantor.refresh_from_db()
    assert guarantor.last_interruption_on == shanghai_today()
    assert f'data-measure="{guarantor.pk}"' not in client.get(reverse("counterguarantee:home")).content.decode()


def test_release_on_repayment(client):
    guarantee = _today_guarantee()
    plan, user = draft_plan(guarantee, measures=[
        mortgage_data(start=guarantee.start, end=guarantee.end, valued_on=shanghai_today(),
                      valuation_valid_until=guarantee.end)], on=shanghai_today())
    services.plan_approve(user=user, plan=plan, on=shanghai_today())
    Guarantee.objects.filter(pk=guarantee.pk).update(status=Guarantee.Status.RELEASED)
    client.force_login(user)
    url = reverse("counterguarantee:plan-release", args=[plan.pk])
    assert client.post(url, {"on": shanghai_today().isoformat()}).status_code == 400
    response = client.post(url, {"on": shanghai_today().isoformat(), "registration_cancelled": "on",
                                 "documents_returned": "on"})
    assert response.status_code == 302
    measure = plan.measures.get()
    assert measure.status == Measure.Status.RELEASED and measure.registration_cancelled_on == shanghai_today()
    assert measure.documents_returned_on == shanghai_today()


def test_authority_edits_the_tables_with_an_audit_row(client):
    authority = authority_admin(RegionFactory())
    client.force_login(authority)
    url = reverse("counterguarantee:tables")
    page = client.get(url).content.decode()
    assert 'data-code="deposit_receipt"' in page and "90.00%" in page
    response = client.post(url, {"br-asset_class": "vehicle", "br-rate": "0.65", "br-effective_from": "2026-01-01"})
    assert response.status_code == 302
    assert BankPledgeRate.objects.filter(asset_class__code="vehicle", rate=D("0.65")).exists()
    response = client.post(url, {"ac-code": "forest_right", "ac-name": "林权", "ac-registry": "real_estate",
                                 "ac-position": "300", "ac-is_active": "on"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(object_type="counterguarantee.assetclass").exists()
    assert AuditEvent.objects.filter(object_type="counterguarantee.bankpledgerate").exists()


def test_supervisor_reads_the_tables_but_cannot_edit(client):
    supervisor = UserFactory(organisation__kind=Organisation.Kind.SUPERVISOR, roles=["city_supervisor"])
    client.force_login(supervisor)
    url = reverse("counterguarantee:tables")
    assert client.get(url).status_code == 200
    assert client.post(url, {"br-asset_class": "vehicle", "br-rate": "0.1", "br-effective_from": "2026-01-01"}).status_code == 403


def test_credit_share_page(client):
    region = RegionFactory()
    guarantee = _today_guarantee(agreement__firm__region=region)
    plan, user = draft_plan(guarantee, measures=[guarantor_data(start=guarantee.start, end=guarantee.end)],
                            on=shanghai_today())
    services.plan_approve(user=user, plan=plan, on=shanghai_today())
    client.force_login(authority_user(region))
    page = client.get(reverse("counterguarantee:credit-share")).content.decode()
    assert f'data-firm="{guarantee.firm_id}"' in page and "100.00%" in page


# --- another firm's user is refused everywhere ---------------------------------------------


@pytest.fixture
def approved_plan():
    guarantee = _today_guarantee()
    plan, user = draft_plan(guarantee, measures=[guarantor_data(start=guarantee.start, end=guarantee.end)],
                            on=shanghai_today())
    services.plan_approve(user=user, plan=plan, on=shanghai_today())
    return plan


def test_another_firm_gets_404_on_every_row_page(client, approved_plan):
    plan = approved_plan
    measure = plan.measures.get()
    client.force_login(other_firm_user())
    for url in (reverse("counterguarantee:plan-edit", args=[plan.guarantee_id]),
                reverse("counterguarantee:plan-detail", args=[plan.pk])):
        assert client.get(url).status_code == 404, url
    for url in (reverse("counterguarantee:plan-approve", args=[plan.pk]),
                reverse("counterguarantee:plan-release", args=[plan.pk]),
                reverse("counterguarantee:measure-action", args=[measure.pk, "inspection"])):
        assert client.post(url, {}).status_code == 404, url
    home = client.get(reverse("counterguarantee:home")).content.decode()
    assert plan.guarantee.contract_no not in home


def test_another_firm_cannot_edit_or_see_the_authority_pages(client, approved_plan):
    client.force_login(other_firm_user())
    for name in ("counterguarantee:tables", "counterguarantee:failed"):
        assert client.get(reverse(name)).status_code == 403
    page = client.get(reverse("counterguarantee:credit-share")).content.decode()
    assert f'data-firm="{approved_plan.firm_id}"' not in page


def test_bank_is_refused(client, approved_plan):
    client.force_login(bank_user())
    assert client.get(reverse("counterguarantee:home")).status_code == 403
    assert client.get(reverse("counterguarantee:plan-detail", args=[approved_plan.pk])).status_code == 404


def test_service_refuses_another_firms_operator(approved_plan):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.inspection_record(user=other_firm_user(), measure=approved_plan.measures.get(),
                                   on=shanghai_today(), finding="normal")


def test_authority_sees_a_plan_of_its_jurisdiction_read_only(client):
    region = RegionFactory()
    guarantee = _today_guarantee(agreement__firm__region=region)
    plan, _user = draft_plan(guarantee, measures=[guarantor_data(start=guarantee.start, end=guarantee.end)],
                             on=shanghai_today())
    client.force_login(authority_user(region))
    assert client.get(reverse("counterguarantee:plan-detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("counterguarantee:plan-edit", args=[guarantee.pk])).status_code == 302
    client.force_login(authority_user(RegionFactory()))
    assert client.get(reverse("counterguarantee:plan-detail", args=[plan.pk])).status_code == 404


def test_contract_and_registration_after_approval(client):
    guarantee = _today_guarantee()
    plan, user = draft_plan(guarantee, measures=[mortgage_data(
        start=guarantee.start, end=guarantee.end, valued_on=shanghai_today(), valuation_valid_until=guarantee.end,
        contract_no="", registration_number="", owners=["张三", "王芳"], signatories=[])], on=shanghai_today())
    services.plan_approve(user=user, plan=plan, on=shanghai_today(), note="合同与登记待办理")
    measure = plan.measures.get()
    assert measure.status == Measure.Status.PLANNED
    client.force_login(user)
    url = reverse("counterguarantee:measure-action", args=[measure.pk, "contract"])
    k = f"k{measure.pk}"
    response = client.post(url, {f"{k}-contract_no": "DY-9", f"{k}-signatories": "张三"})
    assert response.status_code == 400 and "王芳" in response.content.decode()
    response = client.post(url, {f"{k}-contract_no": "DY-9", f"{k}-signatories": "张三、王芳",
                                 f"{k}-registration_number": "黑(2026)不动产证明第9号"})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.status == Measure.Status.REGISTERED and measure.registry == "real_estate"


def test_editor_lists_the_plans_and_every_measures_problems_in_one_pass(client):
    """Issue 13.3: the plan's CG-8 reason, a measure's field error and its CG-4 asset class, and
    another measure's CG-5 valuation source and dates out of order, all on the first submission,
    each beside its field with its rule id."""
    guarantee = _today_guarantee()
    client.force_login(operator_of(guarantee))
    url = reverse("counterguarantee:plan-edit", args=[guarantee.pk])
    response = client.post(url, _post_data(guarantee, [
        _mortgage_fields(guarantee, asset_class="", value="abc"),
        _mortgage_fields(guarantee, valuation_source="", end=(guarantee.start - timedelta(days=1)).isoformat()),
    ], resolving_existing_risk="on"))
    assert response.status_code == 400
    plan_errors = response.context["form"].errors
    first, second = (f.errors for f in response.context["formset"].forms)
    assert "CG-8" in str(plan_errors["resolving_reason"])
    assert "value" in first and "CG-4" in str(first["asset_class"])
    assert "CG-5" in str(second["valuation_source"]) and "end" in second
    assert not Plan.objects.filter(guarantee=guarantee).exists()


def test_contract_form_lists_a_missing_number_and_a_missing_owner_at_once(client):
    """Issue 13.3, CG-10: the contract number (a field error) and the co-owner who did not sign
    (the rule) shown together."""
    guarantee = _today_guarantee()
    plan, user = draft_plan(guarantee, measures=[mortgage_data(
        start=guarantee.start, end=guarantee.end, valued_on=shanghai_today(), valuation_valid_until=guarantee.end,
        owners=["张三", "王芳"], signatories=[])], on=shanghai_today())
    services.plan_approve(user=user, plan=plan, on=shanghai_today(), note="签署后补")
    measure = plan.measures.get()
    client.force_login(user)
    response = client.post(reverse("counterguarantee:measure-action", args=[measure.pk, "contract"]),
                           {f"k{measure.pk}-contract_no": "", f"k{measure.pk}-signatories": "张三"})
    assert response.status_code == 400
    errors = next(forms["contract"]["form"].errors for m, forms in response.context["measures"] if m.pk == measure.pk)
    assert "contract_no" in errors and "CG-10" in str(errors["signatories"]) and "王芳" in str(errors["signatories"])
