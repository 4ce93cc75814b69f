"""The authority's pool administration pages (riskpool/views_manage.py, /riskpool/manage/): each
page for the pool's authority, refused to a bank, the pool reviewer and treasurer (403) and to
the authority of another region (404); member banks with their status (RP-15, RP-22, RP-24) and
grades (RP-20), admission, the dishonesty list and re-admission; violations with the claw-back
preview (RP-21); the special list (RP-12); the pool page's table by quarter and its xlsx; the
bank's own membership status; constant query counts of the list pages."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent, Organisation, Region
from riskpool import rules, services
from riskpool import urls as riskpool_urls
from riskpool.models import BankEvaluation, LedgerEntry, Member, SpecialListEntry, Violation
from tests.factories import (
    ClaimFactory,
    LoanProjectFactory,
    MemberFactory,
    OrganisationFactory,
    PoolFactory,
    UserFactory,
    bank_user,
)
from tests.riskpool.factories import World

pytestmark = pytest.mark.django_db
PAID_ON, BOOKED_ON = date(2025, 4, 28), date(2025, 9, 1)  # the 1-year LPR fell 3.10 → 3.00 on 2025-05-20


class ManageWorld(World):
    """World (a pool, its authority, reviewer and treasurer, one member bank) plus a bank of the
    authority's jurisdiction that is not a member yet."""

    def __init__(self):
        super().__init__()
        region = self.pool.authority.region
        self.city = Region.objects.create(code=f"{region.code}01", name="市", level=Region.Level.CITY, parent=region)
        self.candidate = OrganisationFactory(kind=Organisation.Kind.BANK, region=self.city, name="候选银行深圳分行")

    def paid_claim(self):
        """The worked example paid: 1,200,000.00 on 2025-04-28."""
        self.budget()
        claim = self.to_documents(self.claim())
        self.pay(claim)
        claim.refresh_from_db()
        return claim


@pytest.fixture
def world():
    return ManageWorld()


@pytest.fixture
def people(world):
    """The pool's authority (admin, and a reviewer-role colleague), alice (the member bank), the
    pool's reviewer and treasurer, and dave: the authority of another region's pool."""
    other = PoolFactory()
    return {
        "authority": world.authority,
        "colleague": UserFactory(organisation=world.pool.authority, roles=["authority_reviewer"]),
        "alice": world.bank_user,
        "reviewer": world.reviewer,
        "treasurer": world.treasurer,
        "dave": UserFactory(organisation=other.authority, roles=["authority_admin"]),
    }


def reload(obj):
    obj.refresh_from_db()
    return obj


# --- every URL: who gets the page, who is refused -------------------------------------------

# url name → (args key, method, {person: status}); a GET of a form page is its form.
PAGES = {
    "riskpool:admin-home": (None, "get", {"authority": 200, "colleague": 200, "dave": 200, "alice": 403,
                                          "reviewer": 403, "treasurer": 403}),
    "riskpool:admin-members": ("pool", "get", {"authority": 200, "colleague": 200, "alice": 403, "reviewer": 403,
                                               "treasurer": 403, "dave": 404}),
    "riskpool:admin-member-add": ("pool", "get", {"authority": 200, "colleague": 200, "alice": 403,
                                                  "reviewer": 403, "dave": 404}),
    "riskpool:admin-member-dishonest": ("member", "get", {"authority": 200, "colleague": 200, "alice": 403,
                                                          "reviewer": 403, "dave": 404}),
    "riskpool:admin-member-readmit": ("member", "get", {"authority": 200, "alice": 403, "reviewer": 403,
                                                        "dave": 404}),
    "riskpool:admin-violations": ("pool", "get", {"authority": 200, "colleague": 200, "alice": 403,
                                                  "reviewer": 403, "treasurer": 403, "dave": 404}),
    "riskpool:admin-violation-create": ("pool", "get", {"authority": 200, "colleague": 403, "alice": 403,
                                                        "reviewer": 403, "dave": 404}),
    "riskpool:admin-violation-detail": ("violation", "get", {"authority": 200, "colleague": 200, "alice": 403,
                                                             "reviewer": 403, "dave": 404}),
    "riskpool:admin-special-list": ("pool", "get", {"authority": 200, "colleague": 200, "alice": 403,
                                                    "reviewer": 403, "treasurer": 403, "dave": 404}),
    "riskpool:admin-special-add": ("pool", "get", {"authority": 200, "colleague": 403, "alice": 403,
                                                   "reviewer": 403, "dave": 404}),
    "riskpool:admin-special-end": ("entry", "get", {"authority": 200, "colleague": 403, "alice": 403,
                                                    "reviewer": 403, "dave": 404}),
    "riskpool:pool-quarters-export": ("pool", "get", {"authority": 200, "reviewer": 200, "treasurer": 200,
                                                      "alice": 403, "dave": 404}),
}


def test_every_url_name_is_in_the_access_table():
    assert {f"riskpool:{p.name}" for p in riskpool_urls.manage_patterns} == set(PAGES)


def _objects(world):
    violation = Violation.objects.create(pool=world.pool, member=world.member, kind="misuse",
                                         recorded_on=date(2025, 9, 1), idempotency_key="v-access")
    entry = SpecialListEntry.objects.create(pool=world.pool, industry="C39", ratio=D("0.6"), valid_from=date(2025, 1, 1))
    return {None: [], "pool": [world.pool.pk], "member": [world.member.pk], "violation": [violation.pk],
            "entry": [entry.pk]}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_for_the_authority_and_refused_for_others(client, world, people, name):
    args = _objects(world)
    key, method, expected = PAGES[name]
    url = reverse(name, args=args[key])
    for person, status in expected.items():
        client.force_login(people[person])
        response = getattr(client, method)(url)
        assert response.status_code == status, (name, person, response.status_code)


@pytest.mark.parametrize("name", [
    "riskpool:admin-member-add", "riskpool:admin-member-dishonest", "riskpool:admin-member-readmit",
    "riskpool:admin-violation-create", "riskpool:admin-special-add", "riskpool:admin-special-end",
])
def test_every_write_is_refused_to_a_bank_the_reviewer_and_another_region(client, world, people, name):
    args = _objects(world)
    key = PAGES[name][0]
    url = reverse(name, args=args[key])
    for person, status in (("alice", 403), ("reviewer", 403), ("treasurer", 403), ("dave", 404)):
        client.force_login(people[person])
        assert client.post(url, {"confirmed": "1"}).status_code == status, (name, person)
    assert Member.objects.count() == 1 and not AuditEvent.objects.filter(summary__contains="RP-2").exists()


def test_pages_need_login(client, world):
    response = client.get(reverse("riskpool:admin-home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_navigation_links_the_index_for_the_authority(client, world):
    client.force_login(world.authority)
    page = client.get(reverse("home")).content.decode()
    assert reverse("riskpool:admin-home") in page


# --- the index --------------------------------------------------------------------------------


def test_index_lists_the_pools_the_authority_oversees_with_links(client, world, people):
    other = PoolFactory()
    client.force_login(world.authority)
    response = client.get(reverse("riskpool:admin-home"))
    page = response.content.decode()
    assert list(response.context["pools"]) == [world.pool] and f">{world.pool.name}<" in page
    assert f">{other.name}<" not in page
    for name in ("riskpool:admin-members", "riskpool:admin-violations", "riskpool:admin-special-list"):
        assert reverse(name, args=[world.pool.pk]) in page
    client.force_login(people["dave"])
    response = client.get(reverse("riskpool:admin-home"))
    assert world.pool not in list(response.context["pools"]) and f">{world.pool.name}<" not in response.content.decode()
    client.force_login(UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.AUTHORITY),
                                   roles=["authority_admin"]))
    assert 'id="empty-state"' in client.get(reverse("riskpool:admin-home")).content.decode()


def test_a_parent_authority_sees_the_pages_but_does_not_act_for_the_pools_authority(client, world):
    """A provincial authority oversees a city's pool by jurisdiction: it reads, the services refuse its writes."""
    province = Region.objects.create(code="880000", name="省", level=Region.Level.PROVINCE)
    world.pool.authority.region.parent = province
    world.pool.authority.region.save()
    parent = UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.AUTHORITY, region=province),
                         roles=["authority_admin"])
    client.force_login(parent)
    assert client.get(reverse("riskpool:admin-members", args=[world.pool.pk])).status_code == 200
    assert 'id="add-member"' not in client.get(reverse("riskpool:admin-members", args=[world.pool.pk])).content.decode()
    assert client.get(reverse("riskpool:admin-member-add", args=[world.pool.pk])).status_code == 403


# --- member banks -----------------------------------------------------------------------------


def test_members_page_shows_each_status_and_the_recent_grades(client, world):
    suspended = MemberFactory(pool=world.pool, organisation__name="甲银行", npl_ratio=D("0.045000"))
    revoked = MemberFactory(pool=world.pool, organisation__name="乙银行", revoked_on=date(2023, 3, 1),
                            may_reapply_on=date(2025, 3, 1))
    dishonest = MemberFactory(pool=world.pool, organisation__name="丙银行", dishonest=True,
                              revoked_on=date(2025, 3, 1), may_reapply_on=date(2027, 3, 1))
    for year, grade in ((2023, "unqualified"), (2024, "excellent")):
        BankEvaluation.objects.create(pool=world.pool, year=year, member=revoked, amount=D("1"), borrowers=1,
                                      rank_amount=1, rank_borrowers=1, grade=grade)
    client.force_login(world.authority)
    response = client.get(reverse("riskpool:admin-members", args=[world.pool.pk]))
    page = response.content.decode()
    assert response.context["years"] == [2024, 2023]
    assert "Grade 2024" in page and "Excellent" in page and "Unqualified" in page

    def row(member):
        start = page.index(f'id="member-{member.pk}"')
        return page[start:page.index("</tr>", start)]

    assert "Active" in row(world.member) and world.member.joined_on.isoformat() in row(world.member)
    assert "Compensation suspended: NPL ratio 4.50% above 3.00% (RP-15)" in row(suspended)
    assert "Membership revoked on 2023-03-01, until 2025-03-01 (RP-22)" in row(revoked)
    assert "May be admitted again" in row(revoked) and reverse("riskpool:admin-member-readmit", args=[revoked.pk]) in row(revoked)
    assert "On the serious-dishonesty list (RP-24)" in row(dishonest) and "Active" not in row(dishonest)
    assert "May be admitted again" not in row(dishonest)  # until 2027-03-01
    assert "Take off the dishonesty list" in row(dishonest) and "Put on the dishonesty list" in row(world.member)


def test_add_a_member_after_confirming(client, world):
    client.force_login(world.authority)
    url = reverse("riskpool:admin-member-add", args=[world.pool.pk])
    form = client.get(url)
    assert world.candidate.name in form.content.decode() and world.bank.name not in form.content.decode()
    post = {"bank": world.candidate.pk, "joined_on": "2025-06-01"}
    confirm = client.post(url, post)
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.content.decode()
    assert not Member.objects.filter(organisation=world.candidate).exists()
    response = client.post(url, {**post, "confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("riskpool:admin-members", args=[world.pool.pk])
    member = Member.objects.get(organisation=world.candidate)
    assert member.joined_on == date(2025, 6, 1)
    assert AuditEvent.objects.filter(object_type="riskpool.member", object_id=str(member.pk)).exists()


def test_add_a_member_keeps_the_input_and_shows_the_errors(client, world):
    client.force_login(world.authority)
    url = reverse("riskpool:admin-member-add", args=[world.pool.pk])
    outsider = OrganisationFactory(kind=Organisation.Kind.BANK)  # another region: not offered
    response = client.post(url, {"bank": outsider.pk, "joined_on": "2025-13-01"})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="form-errors"' in page and 'value="2025-13-01"' in page
    assert set(response.context["form"].errors) == {"bank", "joined_on"}
    assert not Member.objects.filter(organisation=outsider).exists()


def test_rp24_put_on_the_dishonesty_list_needs_a_reason_and_a_confirmation(client, world):
    client.force_login(world.authority)
    url = reverse("riskpool:admin-member-dishonest", args=[world.member.pk])
    assert 'name="flag" value="on"' in client.get(url).content.decode()
    response = client.post(url, {"flag": "on", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    confirm = client.post(url, {"flag": "on", "reason": "列入严重失信主体名单（市信用办 2025-18 号）"})
    assert confirm.status_code == 200 and "市信用办 2025-18 号" in confirm.content.decode()
    assert reload(world.member).dishonest is False
    response = client.post(url, {"flag": "on", "reason": "列入严重失信主体名单（市信用办 2025-18 号）", "confirmed": "1"})
    assert response.status_code == 302 and reload(world.member).dishonest is True
    event = AuditEvent.objects.filter(object_type="riskpool.member", summary__contains="RP-24").latest("pk")
    assert "市信用办 2025-18 号" in event.summary and event.after["reason"].startswith("列入")
    # The page offered "put on" but someone already did: refused, nothing changes.
    stale = client.post(url, {"flag": "on", "reason": "again", "confirmed": "1"})
    assert stale.status_code == 400 and "already on the list" in stale.content.decode()
    # Taking it off is the same two steps.
    assert 'name="flag" value="off"' in client.get(url).content.decode()
    client.post(url, {"flag": "off", "reason": "信用修复", "confirmed": "1"})
    assert reload(world.member).dishonest is False


def test_rp22_readmission_before_the_date_is_refused_with_it_and_after_it_admits_again(client, world):
    world.member.revoked_on, world.member.may_reapply_on = date(2023, 9, 1), date(2025, 9, 1)
    world.member.save()
    client.force_login(world.authority)
    url = reverse("riskpool:admin-member-readmit", args=[world.member.pk])
    early = client.post(url, {"on": "2025-08-31", "confirmed": "1"})
    errors = [str(e) for e in early.context["form"].errors["on"]]
    assert early.status_code == 400 and any("RP-22" in e and "2025-09-01" in e for e in errors)
    assert reload(world.member).revoked_on == date(2023, 9, 1)
    assert client.post(url, {"on": "2025-09-01"}).status_code == 200  # the confirmation
    assert client.post(url, {"on": "2025-09-01", "confirmed": "1"}).status_code == 302
    member = reload(world.member)
    assert (member.revoked_on, member.may_reapply_on, member.joined_on) == (None, None, date(2025, 9, 1))


# --- violations (RP-21) -----------------------------------------------------------------------


def _violation_post(world, claim, **overrides):
    post = {"member": world.member.pk, "kind": "false_documents", "recorded_on": "2025-09-01",
            "returned_on": BOOKED_ON.isoformat(), "description": "提供虚假材料", "claims": [claim.pk],
            "idempotency_key": "render-key-1"}
    post.update(overrides)
    return post


def test_rp21_record_a_violation_shows_the_claw_back_and_interest_then_books_them(client, world):
    claim = world.paid_claim()
    client.force_login(world.authority)
    url = reverse("riskpool:admin-violation-create", args=[world.pool.pk])
    form = client.get(url, {"member": world.member.pk}).content.decode()
    assert claim.project.loan_no in form and 'name="idempotency_key"' in form

    confirm = client.post(url, _violation_post(world, claim, revoke="on"))
    page = confirm.content.decode()
    principal = D("1200000.00")
    by_hand = (principal * (D("3.10") * 22 + D("3.00") * 104) / D("36500")).quantize(D("0.01"))
    assert confirm.status_code == 200 and 'id="clawback-preview"' in page
    assert f"{principal:,}" in page and f"{by_hand:,}" in page and "2027-09-01" in page  # RP-22 date
    assert not Violation.objects.exists() and not LedgerEntry.objects.filter(kind="clawback").exists()

    post = {**_violation_post(world, claim, revoke="on"), "confirmed": "1"}
    first, second = client.post(url, post), client.post(url, post)  # a double submit records once
    violation = Violation.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("riskpool:admin-violation-detail", args=[violation.pk])
    assert (violation.clawback_principal, violation.clawback_interest) == (principal, by_hand)
    assert LedgerEntry.objects.filter(kind__in=["clawback", "clawback_interest"]).count() == 2
    assert reload(world.member).revoked_on == date(2025, 9, 1)

    detail = client.get(first["Location"]).content.decode()
    assert 'id="clawback-ledger"' in detail and f"{principal + by_hand:,}" in detail
    assert "Claw-back interest" in detail and claim.project.loan_no in detail


def test_rp21_the_preview_is_the_services_arithmetic(world):
    claim = world.paid_claim()
    preview = services.violation_preview(user=world.authority, member=world.member, claims=[claim],
                                         returned_on=BOOKED_ON)
    violation = services.violation_record(user=world.authority, member=world.member, kind="misuse",
                                          recorded_on=BOOKED_ON, claims=[claim], returned_on=BOOKED_ON,
                                          idempotency_key="k")
    assert (preview.principal, preview.interest) == (violation.clawback_principal, violation.clawback_interest)
    assert preview.segments == services.lpr_segments(PAID_ON, BOOKED_ON)


def test_rp21_a_claim_of_another_bank_cannot_be_chosen(client, world):
    claim = world.paid_claim()
    other = MemberFactory(pool=world.pool)
    stranger = ClaimFactory(project=LoanProjectFactory(pool=world.pool, bank=other.organisation),
                            paid_on=PAID_ON, paid_amount=D("320000.00"), state="paid")
    client.force_login(world.authority)
    url = reverse("riskpool:admin-violation-create", args=[world.pool.pk])
    response = client.post(url, _violation_post(world, claim, claims=[claim.pk, stranger.pk]))
    assert response.status_code == 400 and "claims" in response.context["form"].errors
    assert 'value="提供虚假材料"' in response.content.decode() or "提供虚假材料" in response.content.decode()


def test_rp21_show_the_banks_claims_keeps_what_was_typed(client, world):
    claim = world.paid_claim()
    client.force_login(world.authority)
    url = reverse("riskpool:admin-violation-create", args=[world.pool.pk])
    response = client.post(url, {"member": world.member.pk, "description": "重复申请", "refresh": "1",
                                 "idempotency_key": "k1", "kind": "duplicate_claim"})
    page = response.content.decode()
    assert response.status_code == 200 and claim.project.loan_no in page and "重复申请" in page
    assert not response.context["form"].errors


def test_rp21_violation_list_filters_by_bank_and_kind(client, world):
    other = MemberFactory(pool=world.pool, organisation__name="丁银行")
    Violation.objects.create(pool=world.pool, member=world.member, kind="misuse", recorded_on=date(2025, 9, 1),
                             idempotency_key="a")
    Violation.objects.create(pool=world.pool, member=other, kind="duplicate_claim", recorded_on=date(2025, 9, 2),
                             idempotency_key="b")
    client.force_login(world.authority)
    url = reverse("riskpool:admin-violations", args=[world.pool.pk])
    assert len(client.get(url).context["violations"]) == 2
    assert [v.member for v in client.get(url, {"member": other.pk}).context["violations"]] == [other]
    assert [v.kind for v in client.get(url, {"kind": "misuse"}).context["violations"]] == ["misuse"]
    empty = client.get(url, {"member": other.pk, "kind": "misuse"})
    assert "No violations match these filters." in empty.content.decode()


# --- the special list (RP-12) -------------------------------------------------------------------


def test_rp12_add_an_entry_shows_the_rule_and_field_of_each_problem_then_confirms(client, world):
    client.force_login(world.authority)
    url = reverse("riskpool:admin-special-add", args=[world.pool.pk])
    bad = client.post(url, {"credit_code": "91440300MA5F12345X", "industry": "C39", "ratio": "150",
                            "valid_from": "2025-01-01", "valid_to": "2024-12-31"})
    errors = bad.context["form"].errors
    assert bad.status_code == 400 and set(errors) >= {"credit_code", "ratio", "valid_to"}
    assert all(str(e).startswith("RP-12: ") for field in ("credit_code", "ratio", "valid_to") for e in errors[field])
    assert 'value="C39"' in bad.content.decode() and 'id="form-errors"' in bad.content.decode()

    post = {"industry": "C39", "ratio": "60", "valid_from": "2025-01-01", "note": "市政府批准"}
    confirm = client.post(url, post)
    assert confirm.status_code == 200 and "60%" in confirm.content.decode() and not SpecialListEntry.objects.exists()
    assert client.post(url, {**post, "confirmed": "1"}).status_code == 302
    entry = SpecialListEntry.objects.get()
    assert (entry.industry, entry.ratio, entry.valid_to) == ("C39", D("0.600000"), None)
    assert AuditEvent.objects.filter(object_type="riskpool.speciallistentry", object_id=str(entry.pk)).exists()

    overlap = client.post(url, {**post, "valid_from": "2025-06-01"})
    assert overlap.status_code == 409 and "valid_from" in overlap.context["form"].errors


def test_rp12_end_an_entry_after_confirming_and_never_extend_it(client, world):
    entry = SpecialListEntry.objects.create(pool=world.pool, industry="C39", ratio=D("0.6"), valid_from=date(2025, 1, 1))
    client.force_login(world.authority)
    url = reverse("riskpool:admin-special-end", args=[entry.pk])
    assert client.post(url, {"valid_to": "2025-06-30"}).status_code == 200 and reload(entry).valid_to is None
    assert client.post(url, {"valid_to": "2025-06-30", "confirmed": "1"}).status_code == 302
    assert reload(entry).valid_to == date(2025, 6, 30)
    later = client.post(url, {"valid_to": "2025-12-31", "confirmed": "1"})
    assert later.status_code == 409 and "RP-12" in later.content.decode()
    assert reload(entry).valid_to == date(2025, 6, 30)


def test_rp12_special_list_page_filters_and_marks_the_state(client, world):
    SpecialListEntry.objects.create(pool=world.pool, industry="C39", ratio=D("0.6"), valid_from=date(2025, 1, 1),
                                    valid_to=date(2025, 3, 31))
    SpecialListEntry.objects.create(pool=world.pool, industry="C40", ratio=D("0.55"), valid_from=date(2025, 4, 1))
    SpecialListEntry.objects.create(pool=PoolFactory(), industry="C41", ratio=D("0.55"), valid_from=date(2025, 4, 1))
    client.force_login(world.authority)
    url = reverse("riskpool:admin-special-list", args=[world.pool.pk])
    page = client.get(url).content.decode()
    assert "C39" in page and "C40" in page and "C41" not in page and "Ended" in page
    assert [r["entry"].industry for r in client.get(url, {"show": "valid"}).context["rows"]] == ["C40"]
    assert [r["entry"].industry for r in client.get(url, {"search": "c39"}).context["rows"]] == ["C39"]


# --- the pool page by quarter ---------------------------------------------------------------------


def test_pool_page_shows_the_quarter_table_and_exports_it(client, world):
    claim = world.paid_claim()
    client.force_login(world.authority)
    page = client.get(reverse("riskpool:pool-detail", args=[world.pool.pk])).content.decode()
    assert 'id="quarter-table"' in page and "2025Q2" in page and reverse("riskpool:pool-quarters-export", args=[world.pool.pk]) in page
    assert reverse("riskpool:admin-members", args=[world.pool.pk]) in page

    from openpyxl import load_workbook

    response = client.get(reverse("riskpool:pool-quarters-export", args=[world.pool.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert D(str(rows["2025Q2"][1])) == claim.paid_amount
    assert rows["2025Q2"][-2:] == (1, 1)  # submitted 2025-04-01, approved 2025-04-10
    assert D(str(rows["Total"][1])) == claim.paid_amount


def test_reviewer_sees_the_quarter_table_but_no_administration_link(client, world):
    client.force_login(world.reviewer)
    page = client.get(reverse("riskpool:pool-detail", args=[world.pool.pk])).content.decode()
    assert 'id="quarter-table"' in page and 'id="pool-admin-link"' not in page


# --- the bank's own view ------------------------------------------------------------------------


def test_the_bank_sees_its_membership_status_on_its_project_list(client, world):
    client.force_login(world.bank_user)
    url = reverse("riskpool:project-list")
    page = client.get(url).content.decode()
    assert 'id="membership-status"' in page and "Membership active" in page and "2024-01-01" in page
    world.member.dishonest = True
    world.member.revoked_on, world.member.may_reapply_on = date(2025, 3, 1), rules.may_reapply_on(date(2025, 3, 1))
    world.member.save()
    page = client.get(url).content.decode()
    assert "RP-24" in page and "Membership revoked on 2025-03-01" in page and "2027-03-01" in page
    assert "Membership active" not in page


# --- constant query counts -------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _fill(world, n):
    for i in range(n):
        member = MemberFactory(pool=world.pool, npl_ratio=D("0.01"))
        BankEvaluation.objects.create(pool=world.pool, year=2024, member=member, amount=D("1"), borrowers=1,
                                      rank_amount=1, rank_borrowers=1, grade="good")
        violation = Violation.objects.create(pool=world.pool, member=member, kind="misuse",
                                             recorded_on=date(2025, 9, 1), idempotency_key=f"fill-{world.pool.pk}-{i}-{Violation.objects.count()}")
        violation.claims.set([ClaimFactory(project=LoanProjectFactory(pool=world.pool, bank=member.organisation))])
        SpecialListEntry.objects.create(pool=world.pool, industry=f"X{Violation.objects.count()}", ratio=D("0.6"),
                                        valid_from=date(2025, 1, 1))


# Each list page's queries: session, user, roles, then the page's own (the pool and the region
# path of the jurisdiction, a count and a page of rows, the prefetched grades, the rule set).
LIST_PAGES = {"riskpool:admin-home": 6, "riskpool:admin-members": 11, "riskpool:admin-violations": 9,
              "riskpool:admin-special-list": 8}


@pytest.mark.parametrize("name", sorted(LIST_PAGES))
def test_list_pages_in_a_constant_number_of_queries(client, world, name, django_assert_max_num_queries):
    client.force_login(world.authority)
    url = reverse(name, args=[] if name == "riskpool:admin-home" else [world.pool.pk])
    _fill(world, 2)
    few = _queries(client, url)
    _fill(world, 6)
    with django_assert_max_num_queries(LIST_PAGES[name]):
        assert client.get(url).status_code == 200
    assert _queries(client, url) == few  # the same with four times the rows


def test_add_a_member_bank_of_the_jurisdiction_only(world):
    """The bank list of the add form is the jurisdiction's banks that are not members yet."""
    from riskpool import selectors

    outsider = bank_user().organisation
    banks = set(selectors.banks_joinable(user=world.authority, pool=world.pool))
    assert world.candidate in banks and outsider not in banks and world.bank not in banks


def test_quarter_export_and_bank_table_write_names_typed_as_formulas_as_text(client, world):
    """Issue 10 point 3: the pool's name (in the title) and a member bank's name stay text."""
    from riskpool.models import Pool
    from tests.spreadsheets import HOSTILE, assert_literal

    world.paid_claim()
    Pool.objects.filter(pk=world.pool.pk).update(name=HOSTILE)
    Organisation.objects.filter(pk=world.bank_user.organisation_id).update(name="+" + HOSTILE)
    client.force_login(world.authority)
    assert_literal(client.get(reverse("riskpool:pool-quarters-export", args=[world.pool.pk])).content)
    banks = client.get(reverse("riskpool:pool-detail", args=[world.pool.pk]), {"export": "banks"})
    assert banks["Content-Type"].startswith("application/vnd.openxmlformats")
    assert_literal(banks.content, "+" + HOSTILE)
