"""The home page of each kind of user, and the audit trail page (scoping, filters, the diff)."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.audit import audit
from core.calendar import provisional_years, shanghai_today
from core.models import AuditEvent, CalendarYear, Organisation, Region
from core.periods import Quarter
from guarantees.models import Compensation, Guarantee
from tests.factories import (
    AgreementFactory,
    GuaranteeFactory,
    OrganisationFactory,
    RegionFactory,
    UserFactory,
    firm_user,
)

pytestmark = pytest.mark.django_db



K = Organisation.Kind


@pytest.fixture
def tree():
    province = RegionFactory(code="230000", name="黑龙江省", level=Region.Level.PROVINCE)
    city = RegionFactory(code="232700", name="大兴安岭地区", level=Region.Level.CITY, parent=province)
    county = RegionFactory(code="232721", name="呼玛县", level=Region.Level.COUNTY, parent=city)
    beijing = RegionFactory(code="110000", name="北京市", level=Region.Level.PROVINCE)
    return {"province": province, "city": city, "county": county, "beijing": beijing}


def _guarantee(agreement, *, amount="1000000", fee_rate="0.008", small=True, start=None, **kw):
    start = start or Quarter.current().start
    return GuaranteeFactory(
        agreement=agreement, amount=Decimal(amount), loan_principal=Decimal(amount), fee_rate=Decimal(fee_rate),
        small_micro_or_agri=small, start=start, loan_start=start, end=start + timedelta(days=364),
        loan_maturity=start + timedelta(days=364), **kw,
    )


def _compensation(guarantee, *, due_on, paid_on=None):
    return Compensation.objects.create(
        guarantee=guarantee, default_on=due_on - timedelta(days=30), due_on=due_on, principal=Decimal("500000"),
        base=Decimal("500000"), shares={}, part_bank=Decimal("100000"), part_firm=Decimal("200000"),
        part_reguarantee=Decimal("100000"), part_national_fund=Decimal("100000"), part_government=Decimal("0"),
        paid_on=paid_on,
    )


@pytest.fixture
def world(tree):
    """In 呼玛县: a firm off every line this quarter, with an overdue compensation owed to its bank."""
    bank = OrganisationFactory(kind=K.BANK, region=tree["city"], name="龙江银行")
    other_bank = OrganisationFactory(kind=K.BANK, region=tree["city"], name="农业银行")
    firm = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["county"], name="呼玛担保公司")
    agreement = AgreementFactory(firm=firm, bank=bank, code="HM-1")
    AgreementFactory(firm=firm, bank=other_bank, code="HM-BAD", compliant=False)
    _guarantee(agreement, fee_rate="0.012000", small=False)  # GU-6 and GU-7 off
    _guarantee(agreement, amount="300000", contract_no="HM-ACTIVE")
    defaulted = _guarantee(agreement, amount="500000", status=Guarantee.Status.DEFAULTED, contract_no="HM-OVERDUE",
                           start=Quarter.current().start - timedelta(days=200))
    _compensation(defaulted, due_on=shanghai_today() - timedelta(days=3))
    return {
        **tree, "bank": bank, "other_bank": other_bank, "firm": firm,
        "authority": UserFactory(organisation__kind=K.AUTHORITY, organisation__region=tree["province"],
                                 roles=["authority_admin"]),
        "firm_user": firm_user(organisation=firm),
        "bank_user": UserFactory(organisation=bank, roles=["bank_operator"]),
    }


def _home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response, response.content.decode()


def _figure(content: str, name: str) -> tuple[str, int]:
    match = re.search(rf'href="([^"]*)" data-figure="{name}">\s*<div class="value[^"]*"[^>]*>(\d+)</div>', content)
    assert match, name
    return match.group(1), int(match.group(2))


# --- home -------------------------------------------------------------------------------------


def test_home_of_the_authority_shows_the_firms_off_the_policy_lines(client, world):
    response, content = _home(client, world["authority"])
    assert 'id="oversight-figures"' in content
    dashboard = reverse("indicators:dashboard")
    assert _figure(content, "fee") == (f"{dashboard}?off=fee", 1)
    assert _figure(content, "support") == (f"{dashboard}?off=support", 1)
    assert _figure(content, "agreements") == (f"{dashboard}?off=agreements", 1)
    assert _figure(content, "overdue") == (f"{dashboard}?off=overdue", 1)
    summary = response.context["panel"]["summary"]
    assert (summary.firms, summary.agreements, summary.overdue) == (1, 1, 1)
    assert 'id="status-counts"' not in content


def test_home_figure_links_open_the_same_firms_on_the_dashboard(client, world):
    client.force_login(world["authority"])
    for off in ("fee", "support", "agreements", "overdue"):
        rows = client.get(reverse("indicators:dashboard"), {"off": off}).context["rows"]
        assert [r.ind.firm_id for r in rows] == [world["firm"].pk], off


def test_home_calendar_warning_until_the_holidays_are_entered(client, world):
    today = shanghai_today()
    missing = provisional_years(range(today.year - 1, today.year + 2))
    _response, content = _home(client, world["authority"])
    if missing:  # chinese-calendar 1.11 knows up to 2026, so next year is missing in 2026
        assert 'id="calendar-warning"' in content
        assert str(missing[-1]) in content
        assert reverse("calendar") in content
    for year in missing:
        CalendarYear.objects.create(year=year, holidays_entered=True)
    _response, content = _home(client, world["authority"])
    assert 'id="calendar-warning"' not in content


def test_home_of_a_supervisor_is_the_oversight_page_for_its_region(client, world):
    other_county = RegionFactory(code="232722", name="塔河县", level=Region.Level.COUNTY, parent=world["city"])
    supervisor = UserFactory(organisation__kind=K.SUPERVISOR, organisation__region=other_county,
                             roles=["county_supervisor"])
    response, content = _home(client, supervisor)
    assert 'id="oversight-figures"' in content
    assert response.context["panel"]["summary"].firms == 0  # 呼玛县 is not its county
    assert "no guarantee firms in your jurisdiction" in content


def test_home_of_a_firm_user(client, world):
    response, content = _home(client, world["firm_user"])
    for block in ('id="party-figures"', 'id="status-counts"', 'id="firm-indicators"', 'id="overdue"'):
        assert block in content, block
    summary = response.context["panel"]["summary"]
    assert summary.total == 3 and summary.overdue_count == 1
    assert dict((code, n) for code, _label, n in summary.by_status)["active"] == 2
    assert summary.indicators.firm_id == world["firm"].pk and not summary.indicators.fee_on_target
    assert "HM-OVERDUE" in content
    assert reverse("guarantees:guarantee-create") in content
    assert reverse("guarantees:guarantee-import") in content
    assert 'id="oversight-figures"' not in content


def test_home_of_a_firm_user_with_no_business(client, tree):
    firm = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["county"])
    response, content = _home(client, firm_user(organisation=firm))
    assert response.context["panel"]["summary"].total == 0
    assert "No guarantees recorded yet" in content and "Nothing overdue." in content


def test_home_of_a_bank_user_shows_its_guarantees_and_what_is_overdue_to_it(client, world):
    response, content = _home(client, world["bank_user"])
    assert 'id="status-counts"' in content and 'id="overdue"' in content
    assert 'id="firm-indicators"' not in content
    summary = response.context["panel"]["summary"]
    assert summary.total == 3 and summary.overdue_count == 1
    assert "HM-OVERDUE" in content and "呼玛担保公司" in content
    other = UserFactory(organisation=world["other_bank"], roles=["bank_operator"])
    response, content = _home(client, other)
    assert response.context["panel"]["summary"].total == 0 and "HM-OVERDUE" not in content


def test_home_of_a_pool_reviewer_is_a_plain_welcome(client, tree):
    user = UserFactory(organisation__kind=K.POOL_REVIEWER, organisation__region=tree["province"],
                       roles=["pool_reviewer"])
    response, content = _home(client, user)
    assert response.context["role"] == "other"
    assert 'id="oversight-figures"' not in content and 'id="status-counts"' not in content


def test_home_of_a_superuser_sees_every_firm(client, world):
    admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
    response, _content = _home(client, admin)
    assert response.context["panel"]["summary"].firms == 1


def _more_firms(tree, n):
    bank = OrganisationFactory(kind=K.BANK, region=tree["city"])
    for i in range(n):
        firm = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["county"])
        agreement = AgreementFactory(firm=firm, bank=bank, compliant=bool(i % 2))
        g = _guarantee(agreement, fee_rate="0.011", status=Guarantee.Status.DEFAULTED)
        _compensation(g, due_on=shanghai_today() - timedelta(days=1))


def _count_home_queries(client, user) -> int:
    client.force_login(user)
    client.get(reverse("home"))  # warm the caches (the JB-1 calendar table, the session)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("home")).status_code == 200
    return len(captured)


def test_home_queries_do_not_grow_with_the_data(client, world, settings):
    # A private cache: a test run elsewhere flushing the shared Redis between the warm-up and
    # the count would change the count for reasons that have nothing to do with the page.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    users = [world["authority"], world["firm_user"], world["bank_user"]]
    before = [_count_home_queries(client, u) for u in users]
    _more_firms(world, 25)
    agreement = world["firm"].firm_agreements.get(code="HM-1")
    for i in range(15):  # more overdue compensations than the page lists
        g = _guarantee(agreement, status=Guarantee.Status.DEFAULTED, contract_no=f"HM-X{i}")
        _compensation(g, due_on=shanghai_today() - timedelta(days=5))
    assert [_count_home_queries(client, u) for u in users] == before


# --- audit trail ------------------------------------------------------------------------------


@pytest.fixture
def events(world):
    firm, bank = world["firm"], world["bank"]
    outsider = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=world["beijing"], name="京外担保公司")
    agreement = firm.firm_agreements.get(code="HM-1")
    actor = world["firm_user"]
    created = audit(actor=actor, action=AuditEvent.Action.CREATE, instance=agreement, organisation=firm,
                    summary="agreement HM-1")
    changed = audit(actor=actor, action=AuditEvent.Action.UPDATE, instance=agreement, organisation=firm,
                    before={"grace_days": 30, "code": "HM-1", "deposit_ratio": "0.000000"},
                    after={"grace_days": 60, "code": "HM-1", "deposit_ratio": "0.000000"}, summary="grace")
    by_bank = audit(actor="bank system", action=AuditEvent.Action.TRANSITION, instance=bank, organisation=bank,
                    summary="bank event")
    foreign = audit(actor=None, action=AuditEvent.Action.CREATE, instance=outsider, organisation=outsider,
                    summary="京外事件")
    orgless = audit(actor=None, action=AuditEvent.Action.UPDATE, instance=outsider, summary="platform setting")
    return {"created": created, "changed": changed, "by_bank": by_bank, "foreign": foreign, "orgless": orgless,
            "outsider": outsider}


def _audit(client, user, **params):
    client.force_login(user)
    return client.get(reverse("audit-list"), params, HTTP_ACCEPT_LANGUAGE="en")


def _ids(response) -> set[int]:
    return {row["event"].pk for row in response.context["rows"]}


def test_audit_list_shows_the_events_of_the_jurisdiction(client, world, events):
    response = _audit(client, world["authority"])
    assert response.status_code == 200
    assert _ids(response) == {events["created"].pk, events["changed"].pk, events["by_bank"].pk}


def test_audit_list_of_another_province_shows_none_of_this_provinces_events(client, world, events):
    other = UserFactory(organisation__kind=K.AUTHORITY, organisation__region=world["beijing"],
                        roles=["authority_reviewer"])
    response = _audit(client, other)
    assert _ids(response) == {events["foreign"].pk}
    assert "HM-1" not in response.content.decode()


def test_audit_list_of_a_city_supervisor_covers_its_counties(client, world, events):
    supervisor = UserFactory(organisation__kind=K.SUPERVISOR, organisation__region=world["city"],
                             roles=["city_supervisor"])
    assert _ids(_audit(client, supervisor)) == {events["created"].pk, events["changed"].pk, events["by_bank"].pk}


def test_superuser_also_sees_events_without_an_organisation(client, world, events):
    admin = UserFactory(organisation=None, is_superuser=True)
    assert events["orgless"].pk in _ids(_audit(client, admin))


@pytest.mark.parametrize("who", ["firm_user", "bank_user"])
def test_audit_list_is_403_for_firm_and_bank_users(client, world, events, who):
    assert _audit(client, world[who]).status_code == 403


def test_audit_list_needs_a_login(client, events):
    response = client.get(reverse("audit-list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_audit_filters(client, world, events):
    user = world["authority"]
    assert _ids(_audit(client, user, object_type="core.organisation")) == {events["by_bank"].pk}
    assert _ids(_audit(client, user, action="update")) == {events["changed"].pk}
    assert _ids(_audit(client, user, actor=world["firm_user"].username)) == {events["created"].pk, events["changed"].pk}
    assert _ids(_audit(client, user, actor="bank sys")) == {events["by_bank"].pk}
    today = shanghai_today()
    assert len(_ids(_audit(client, user, date_from=today.isoformat(), date_to=today.isoformat()))) == 3
    assert _ids(_audit(client, user, date_from=(today + timedelta(days=1)).isoformat())) == set()
    assert _ids(_audit(client, user, date_to=(today - timedelta(days=1)).isoformat())) == set()
    assert "No event matches these filters." in _audit(client, user, action="delete").content.decode()


def test_audit_filter_choices_are_the_projects_models(client, world, events):
    form = _audit(client, world["authority"]).context["form"]
    choices = {value for value, _label in form.fields["object_type"].choices}
    assert {"", "guarantees.agreement", "guarantees.guarantee", "core.organisation", "core.ruleset"} <= choices
    assert "auth.group" not in choices and "axes.accessattempt" not in choices


def test_audit_filter_with_bad_dates_is_ignored_not_fatal(client, world, events):
    response = _audit(client, world["authority"], date_from="2025-13-40", date_to="yesterday")
    assert response.status_code == 200 and len(_ids(response)) == 3


GRACE_LABEL = "grace period for compensation (days)"


def test_audit_row_expands_to_the_changed_keys_only(client, world, events):
    response = _audit(client, world["authority"], action="update")
    row = response.context["rows"][0]
    assert [(c["key"], c["before"], c["after"]) for c in row["changes"]] == [("grace_days", "30", "60")]
    content = response.content.decode()
    details = re.search(r"<details>.*?</details>", content, re.S).group(0)
    # Issue 13.2: the field by its verbose name, the code only in the tooltip.
    assert 'title="grace_days"' in details and GRACE_LABEL in details and "<code>grace_days</code>" not in details
    assert "<code>code</code>" not in details and "deposit_ratio" not in details


def test_audit_row_of_a_create_lists_every_key_of_after(client, world, events):
    response = _audit(client, world["authority"], action="create")
    keys = [c["key"] for c in response.context["rows"][0]["changes"]]
    assert "code" in keys and "share_bank" in keys
    assert all(c["before"] == "—" for c in response.context["rows"][0]["changes"])


def test_audit_list_is_paginated_and_keeps_the_filters(client, world, events):
    agreement = world["firm"].firm_agreements.get(code="HM-1")
    for i in range(55):
        audit(actor=world["firm_user"], action=AuditEvent.Action.UPDATE, instance=agreement,
              organisation=world["firm"], before={"n": i}, after={"n": i + 1})
    first = _audit(client, world["authority"], action="update")
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.count == 56
    assert "action=update&amp;page=2" in first.content.decode()
    second = _audit(client, world["authority"], action="update", page="2")
    assert len(second.context["rows"]) == 6


def test_audit_summary_written_under_english_reads_in_each_viewers_language(client, world):
    """Issue 13.1: a summary kept as its msgid and values, shown in the viewer's language."""
    from django.utils import translation

    from core import i18n_text

    firm = world["firm"]
    with translation.override("en"):
        audit(actor=world["firm_user"], action=AuditEvent.Action.TRANSITION, instance=firm, organisation=firm,
              summary=i18n_text.gettext_lazy("Organisation deactivated: %(name)s (%(reason)s)")
              % {"name": firm.name, "reason": "合并"})
    client.force_login(world["authority"])
    chinese = client.get(reverse("audit-list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get(reverse("audit-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"机构已停用：{firm.name}（合并）" in chinese and "Organisation deactivated" not in chinese
    assert f"Organisation deactivated: {firm.name} (合并)" in english


def test_audit_changes_name_fields_and_coded_values_in_the_viewers_language(client, world):
    """Issue 13.2: a state or role code in a change reads as its label, the field by its name."""
    firm = world["firm"]
    audit(actor=world["firm_user"], action=AuditEvent.Action.UPDATE, instance=firm, organisation=firm,
          before={"kind": "bank", "is_active": True}, after={"kind": "guarantee_firm", "is_active": False})
    client.force_login(world["authority"])
    for language in ("zh-hans", "en"):
        page = client.get(reverse("audit-list"), {"action": "update"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        details = re.search(r"<details>.*?</details>", page, re.S).group(0)
        text = re.sub(r"<[^>]+>", " ", details)
        assert "guarantee_firm" not in text and "is_active" not in text
        from django.utils import translation

        with translation.override(language):
            assert str(Organisation.Kind.GUARANTEE_FIRM.label) in text
            assert str(Organisation._meta.get_field("kind").verbose_name) in text


def test_the_site_has_an_icon_and_favicon_ico_leads_to_it(client):
    """Browsers ask /favicon.ico of pages without an icon (the API's JSON): no 404 in their console."""
    from django.templatetags.static import static

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("img/favicon.svg")
    page = client.get(reverse("login"))
    assert f'<link rel="icon" href="{static("img/favicon.svg")}"'.encode() in page.content
