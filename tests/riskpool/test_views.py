"""Browser pages of the risk compensation pool, Scheme S (riskpool/views.py): each page for its
role, refused for everyone else (another bank's user gets 404 on our rows, RP-25), the entry
form (RP-6), the reviewer's decision, the treasurer's idempotent payment (RP-1), the public
notice's masking (RP-25) and its objection rate limit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from core import i18n_text
from core.calendar import shanghai_today
from riskpool import urls as riskpool_urls
from riskpool.models import Claim, ClaimStep, LedgerEntry, LoanProject, Objection
from tests.factories import (
    BorrowerDataFactory,
    LoanProjectFactory,
    PoolFactory,
    UserFactory,
    bank_user,
    firm_user,
    make_credit_code,
)
from tests.riskpool.factories import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(world):
    return world.claim()


@pytest.fixture
def people(world):
    """alice: our bank; bob: another member bank; charlie: a guarantee firm; dave: another pool's
    authority; plus the pool's reviewer, treasurer and authority."""
    other_pool = PoolFactory()
    bob = bank_user()
    from riskpool import services

    services.member_add(user=world.authority, pool=world.pool, bank=bob.organisation, joined_on=date(2024, 1, 1))
    return {
        "alice": world.bank_user, "bob": bob, "charlie": firm_user(),
        "dave": UserFactory(organisation=other_pool.authority, roles=["authority_admin"]),
        "reviewer": world.reviewer, "treasurer": world.treasurer, "authority": world.authority,
        "other_reviewer": UserFactory(organisation=other_pool.reviewer, roles=["pool_reviewer"]),
    }


def reload(obj):
    obj.refresh_from_db()
    return obj


# --- every URL: who gets the page, who is refused -------------------------------------------

# (url name, args key, method) → {person: expected status}; people not listed are not tried.
PAGES = {
    "riskpool:project-list": (None, "get", {"alice": 200, "reviewer": 200, "treasurer": 200, "authority": 200,
                                            "charlie": 403}),
    "riskpool:project-create": (None, "get", {"alice": 200, "reviewer": 403, "authority": 403, "charlie": 403}),
    "riskpool:project-late-entry": ("pool", "get", {"authority": 200, "alice": 403, "reviewer": 403, "dave": 404,
                                                   "charlie": 403}),
    "riskpool:project-detail": ("project", "get", {"alice": 200, "reviewer": 200, "authority": 200, "bob": 404,
                                                  "charlie": 404, "dave": 404}),
    "riskpool:project-classify": ("project", "post", {"bob": 404, "charlie": 404, "reviewer": 403}),
    "riskpool:project-close": ("project", "post", {"bob": 404, "charlie": 404, "reviewer": 403, "dave": 404}),
    "riskpool:projects-to-close": (None, "get", {"alice": 200, "reviewer": 403, "authority": 403, "charlie": 403}),
    "riskpool:claim-create": ("project", "get", {"alice": 200, "bob": 404, "reviewer": 403, "charlie": 404}),
    "riskpool:claim-list": (None, "get", {"alice": 200, "bob": 200, "reviewer": 200, "authority": 200,
                                          "charlie": 403}),
    "riskpool:claim-detail": ("claim", "get", {"alice": 200, "reviewer": 200, "treasurer": 200, "authority": 200,
                                              "bob": 404, "charlie": 404, "dave": 404}),
    "riskpool:claim-action": ("claim-action", "post", {"bob": 404, "charlie": 404, "treasurer": 403,
                                                       "authority": 403, "other_reviewer": 404}),
    "riskpool:claim-document": ("document", "get", {"alice": 200, "reviewer": 200, "treasurer": 200,
                                                   "authority": 200, "bob": 404, "charlie": 404, "dave": 404,
                                                   "other_reviewer": 404}),
    "riskpool:review-queue": (None, "get", {"reviewer": 200, "alice": 403, "treasurer": 403, "authority": 403}),
    "riskpool:notice-desk": (None, "get", {"authority": 200, "reviewer": 403, "alice": 403, "treasurer": 403,
                                          "dave": 200}),
    "riskpool:notice-start": (None, "post", {"alice": 403, "reviewer": 403, "treasurer": 403, "charlie": 403}),
    "riskpool:objection-decide": ("objection", "post", {"alice": 403, "treasurer": 403, "other_reviewer": 404}),
    "riskpool:treasurer-desk": (None, "get", {"treasurer": 200, "alice": 403, "reviewer": 403}),
    "riskpool:finance-desk": (None, "get", {"alice": 403, "reviewer": 403, "treasurer": 403, "authority": 403,
                                            "charlie": 403}),
    "riskpool:pool-list": (None, "get", {"authority": 200, "reviewer": 200, "treasurer": 200, "alice": 403,
                                         "charlie": 403}),
    "riskpool:pool-detail": ("pool", "get", {"authority": 200, "reviewer": 200, "treasurer": 200, "alice": 403,
                                            "dave": 404}),
    "riskpool:funding-plan": ("pool", "post", {"alice": 404, "reviewer": 403, "dave": 404}),
    "riskpool:pool-budget": ("pool", "post", {"reviewer": 403, "treasurer": 403, "dave": 404}),
    "notice:notice-list": (None, "get", {"anonymous": 200, "alice": 200}),
    "notice:objection": ("claim", "post", {"anonymous": 404}),  # not on notice: no objection
}


def test_every_url_name_is_in_the_access_table():
    # The included modules (Scheme M, pool administration, upload) have access tables of their own.
    own = [p for p in riskpool_urls.pages if isinstance(p, URLPattern)]
    names = {f"riskpool:{p.name}" for p in own} | {f"notice:{p.name}" for p in riskpool_urls.notice_patterns}
    assert names == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_for_its_role_and_refused_for_others(client, world, claim, people, name):
    objection = Objection.objects.create(claim=claim, name="x", contact="y", text="z")
    args_key, method, expected = PAGES[name]
    args = {
        None: [], "project": [claim.project_id], "claim": [claim.pk], "pool": [world.pool.pk],
        "objection": [objection.pk], "claim-action": [claim.pk, "review"],
        "document": [claim.documents.values_list("pk", flat=True).first()],
    }[args_key]
    url = reverse(name, args=args)
    for person, status in expected.items():
        client.logout()
        if person != "anonymous":
            client.force_login(people[person])
        response = getattr(client, method)(url)
        assert response.status_code == status, (name, person, response.status_code)


@pytest.mark.parametrize("action", [
    "documents", "re-review", "withdraw", "to-library", "upgrade", "recovery", "nil-recovery", "closure-request",
    "review",
    "notice-close", "closure-review", "pay", "closure-recheck", "close", "disposal-complete", "settlement-request",
    "upgrade-decide", "settlement-decide", "finance-decide",
])
def test_every_claim_step_is_refused_to_another_bank_and_a_firm(client, claim, people, action):
    for person, status in (("bob", 404), ("charlie", 404)):
        client.force_login(people[person])
        assert client.post(reverse("riskpool:claim-action", args=[claim.pk, action])).status_code == status


def test_pages_need_login(client, claim):
    response = client.get(reverse("riskpool:claim-detail", args=[claim.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the bank's pages --------------------------------------------------------------------------


def project_post(world, **overrides) -> dict:
    data = {
        "pool": str(world.pool.pk), "borrower_name": "顺达小微制造有限公司", "id_kind": "credit_code",
        "id_number": make_credit_code(), "borrower_kind": "enterprise", "size_entered": "small",
        "size_evidence": "2024 年度财务报表", "loan_no": "JJ-FORM-0001", "loan_kind": "enterprise",
        "principal": "3000000", "currency": "CNY", "disbursed_on": "2024-05-10", "maturity_on": "2025-05-09",
        "annual_rate": "4.2", "other_balance": "1500000", "purpose": "operations", "features": ["pure_credit"],
        "entered_on": "2024-06-01",
    }
    data.update(overrides)
    return data


def test_register_form_happy_path(client, world, server_day):
    server_day(date(2024, 6, 1))  # RP-6: the entry date is the server's
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:project-create"), project_post(world))
    project = LoanProject.objects.get(loan_no="JJ-FORM-0001")
    assert response.status_code == 302 and response["Location"] == reverse("riskpool:project-detail", args=[project.pk])
    assert project.bank == world.bank and project.principal_yuan == D("3000000.00")
    assert project.annual_rate == D("0.042000") and project.features == ["pure_credit"]
    assert "JJ-FORM-0001" in client.get(response["Location"]).content.decode()


def test_rp2_the_form_asks_for_what_gu11_derives_the_size_from(client, world, server_day):
    """Issue 13.3: industry, employees, revenue and assets on the form give the size (GU-11)."""
    server_day(date(2024, 6, 1))
    client.force_login(world.bank_user)
    form_page = client.get(reverse("riskpool:project-create")).content.decode()
    for name in ("industry", "employees", "revenue", "total_assets"):
        assert f'name="{name}"' in form_page
    response = client.post(reverse("riskpool:project-create"), project_post(
        world, size_entered="", size_evidence="", industry="retail", employees="20", revenue="3000000",
        total_assets=""))
    project = LoanProject.objects.get(loan_no="JJ-FORM-0001")
    assert response.status_code == 302 and project.borrower.size_derived == "small"


def test_the_loan_form_lists_every_problem_in_one_pass(client, world, server_day):
    """Issue 13.3: field, cross-field (RP-7 dates) and checksum errors together."""
    server_day(date(2024, 6, 1))
    client.force_login(world.bank_user)
    good = make_credit_code()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(reverse("riskpool:project-create"), project_post(
        world, principal="abc", id_number=bad, size_evidence="", maturity_on="2024-05-10"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"principal", "id_number", "size_evidence", "maturity_on"} <= set(errors)
    assert "RP-7" in str(errors["maturity_on"])
    assert not LoanProject.objects.filter(loan_no="JJ-FORM-0001").exists()


def test_rp6_late_entry_shows_the_deadline_and_saves_nothing(client, world, server_day):
    server_day(date(2024, 7, 22))
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:project-create"), project_post(world))
    assert response.status_code == 400
    errors = [str(e) for e in response.context["form"].non_field_errors()]
    assert any("RP-6" in e and "2024-07-19" in e for e in errors)
    page = response.content.decode()
    assert "2024-07-19" in page and 'value="JJ-FORM-0001"' in page  # what was typed is kept
    assert not LoanProject.objects.filter(loan_no="JJ-FORM-0001").exists()


def test_claim_detail_shows_rules_steps_deadline_and_npl_ratio(client, world, claim):
    client.force_login(world.bank_user)
    page = client.get(reverse("riskpool:claim-detail", args=[claim.pk])).content.decode()
    assert "RP-8" in page and 'id="steps"' in page and "2025-05-01" in page  # 30 days to decide
    assert "the pool reviewer" in page and 'id="bank-npl"' in page and "3.00%" in page
    assert 'id="withdraw-form"' in page and 'id="review-form"' not in page


def test_claim_submit_form(client, world, server_day):
    project = world.register()
    world.npl(project)
    server_day(date(2025, 4, 1))  # RP-14: the submission date is the server's
    client.force_login(world.bank_user)
    response = client.post(reverse("riskpool:claim-create", args=[project.pk]), {
        "outstanding_principal": "2400000", "credit_report_on": "2025-03-25", "submitted_on": "2025-04-01",
        "credit_report": pdf("征信报告.pdf"), "loan_file": pdf("贷款资料.pdf")})
    claim = Claim.objects.get(project=project)
    assert response.status_code == 302 and claim.amount == D("1200000.00")


def test_project_list_filters_by_library(client, world):
    project = world.register()
    client.force_login(world.bank_user)
    page = client.get(reverse("riskpool:project-list"), {"library": "compensation"}).content.decode()
    assert project.loan_no not in page
    page = client.get(reverse("riskpool:project-list"), {"library": "loan"}).content.decode()
    assert project.loan_no in page and 'id="npl-ratio"' in page


# --- the reviewer ------------------------------------------------------------------------------


def test_reviewer_approves(client, world, claim):
    client.force_login(world.reviewer)
    response = client.post(reverse("riskpool:claim-action", args=[claim.pk, "review"]),
                           {"review-approve": "yes", "review-on": "2025-04-10", "review-note": "符合条件"})
    assert response.status_code == 302 and reload(claim).state == "approved"


def test_reviewer_rejects_after_confirming_with_reasons(client, world, claim):
    client.force_login(world.reviewer)
    url = reverse("riskpool:claim-action", args=[claim.pk, "review"])
    response = client.post(url, {"review-approve": "no", "review-on": "2025-04-10", "review-note": ""})
    assert response.status_code == 200 and 'id="confirm-form"' in response.content.decode()
    response = client.post(url, {"review-approve": "no", "review-on": "2025-04-10", "review-note": "", "confirmed": "1"})
    assert response.status_code == 400 and "A rejection needs the reasons." in response.content.decode()
    assert reload(claim).state == "submitted"
    post = {"review-approve": "no", "review-on": "2025-04-10", "review-note": "贷款用途不符"}
    assert client.post(url, post).status_code == 200 and reload(claim).state == "submitted"  # confirm first
    assert client.post(url, {**post, "confirmed": "1"}).status_code == 302
    claim = reload(claim)
    assert claim.state == "rejected" and claim.decision_note == "贷款用途不符"


def test_wrong_state_step_is_409_with_the_reason(client, world, claim):
    client.force_login(world.treasurer)
    response = client.post(reverse("riskpool:claim-action", args=[claim.pk, "pay"]),
                           {"pay-on": "2025-04-28", "pay-idempotency_key": "k1", "confirmed": "1"})
    assert response.status_code == 409 and reload(claim).state == "submitted"


def test_rp16_the_authority_starts_the_notice_from_its_desk(client, world, claim, server_day):
    from riskpool import services

    services.claim_review(user=world.reviewer, claim=claim, approve=True, note="ok", on=date(2025, 4, 10))
    client.force_login(world.reviewer)
    assert 'id="notice-start-form"' not in client.get(reverse("riskpool:review-queue")).content.decode()
    assert client.post(reverse("riskpool:notice-start"), {"claims": [claim.pk], "on": "2025-04-14"}).status_code == 403
    client.force_login(world.authority)
    assert 'id="notice-start-form"' in client.get(reverse("riskpool:notice-desk")).content.decode()
    server_day(date(2025, 4, 14))  # the notice starts on the server's day, whatever is typed
    response = client.post(reverse("riskpool:notice-start"), {"claims": [claim.pk], "on": "2025-04-01"})
    assert response.status_code == 302 and reload(claim).state == "on_notice"
    assert reload(claim).notice_start == date(2025, 4, 14) and claim.notice_end == date(2025, 4, 23)


# --- the treasurer ----------------------------------------------------------------------------


def test_treasurer_pays_once_on_double_submit(client, world, claim):
    world.budget()
    world.to_documents(claim)
    client.force_login(world.treasurer)
    page = client.get(reverse("riskpool:treasurer-desk")).content.decode()
    assert 'name="pay-idempotency_key"' in page
    url = reverse("riskpool:claim-action", args=[claim.pk, "pay"])
    post = {"pay-on": "2025-04-28", "pay-idempotency_key": "render-key-1"}
    confirm = client.post(url, post)
    assert confirm.status_code == 200 and 'value="render-key-1"' in confirm.content.decode()
    assert reload(claim).state == "documents_uploaded"
    first = client.post(url, {**post, "confirmed": "1"})
    second = client.post(url, {**post, "confirmed": "1"})
    assert first.status_code == 302 and second.status_code == 302
    assert LedgerEntry.objects.filter(claim=claim, kind=LedgerEntry.Kind.PAYOUT).count() == 1
    assert reload(claim).state == "paid" and reload(world.pool).balance == D("3800000.00")


# --- the authority ----------------------------------------------------------------------------


def test_authority_adds_budget_after_confirming_once(client, world):
    client.force_login(world.authority)
    url = reverse("riskpool:pool-budget", args=[world.pool.pk])
    post = {"amount": "1000000", "booked_on": "2025-01-02", "note": "", "idempotency_key": "budget-1"}
    assert client.post(url, post).status_code == 200 and reload(world.pool).balance == D("0")
    assert client.post(url, {**post, "confirmed": "1"}).status_code == 302
    assert client.post(url, {**post, "confirmed": "1"}).status_code == 302
    assert reload(world.pool).balance == D("1000000.00")
    page = client.get(reverse("riskpool:pool-detail", args=[world.pool.pk])).content.decode()
    assert "1,000,000.00" in page and 'id="bank-npl"' in page


def test_authority_issues_a_funding_plan(client, world, claim):
    from riskpool import services

    claim = world.to_notice(claim)
    services.claim_notice_close(user=world.authority, claim=claim, on=date(2025, 4, 24))
    client.force_login(world.authority)
    response = client.post(reverse("riskpool:funding-plan", args=[world.pool.pk]),
                           {"number": "ZZ-1", "on": "2025-04-25", "claims": [claim.pk]})
    assert response.status_code == 302 and reload(claim).state == "in_funding_plan"


# --- the public notice (RP-25) ----------------------------------------------------------------


def test_public_notice_shows_the_masked_code_only(client, world, claim):
    world.to_notice(claim)
    code = claim.project.borrower.id_number
    page = client.get(reverse("notice:notice-list")).content.decode()
    assert code[:4] + "*" * 10 + code[-4:] in page
    assert code not in page and claim.project.loan_no not in page
    assert claim.project.borrower.name in page and "1,200,000.00" in page and "50.00%" in page


def test_objection_rate_limit_answers_429_on_the_sixth_post(client, world, claim, settings):
    # A private cache: the shared Redis of the development machine is flushed by other test runs.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"}}
    world.to_notice(claim, on=shanghai_today())
    url = reverse("notice:objection", args=[claim.pk])
    post = {f"c{claim.pk}-name": "张三", f"c{claim.pk}-contact": "13800000000", f"c{claim.pk}-text": "该企业并非小微企业"}
    for _ in range(5):
        assert client.post(url, post).status_code == 302
    response = client.post(url, post)
    assert response.status_code == 429 and 'id="limit-error"' in response.content.decode()
    assert Objection.objects.filter(claim=claim).count() == 5


# --- constant query counts ----------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_project_list_query_count_is_constant(client, world):
    client.force_login(world.bank_user)
    url = reverse("riskpool:project-list")
    for n in range(2):
        _register(world, f"JJ-Q-{n}")
    few = _queries(client, url)
    for n in range(2, 8):
        _register(world, f"JJ-Q-{n}")
    assert _queries(client, url) == few


def test_reviewer_queue_query_count_is_constant(client, world):
    client.force_login(world.reviewer)
    url = reverse("riskpool:review-queue")
    _claim(world, "JJ-R-0")
    few = _queries(client, url)
    for n in range(1, 5):
        _claim(world, f"JJ-R-{n}")
    assert Claim.objects.count() == 5
    assert _queries(client, url) == few


def _register(world, loan_no):
    from riskpool import services
    from tests.riskpool.factories import example_data

    return services.project_register(user=world.bank_user, pool=world.pool, borrower=BorrowerDataFactory(),
                                     data=example_data(loan_no=loan_no))


def _claim(world, loan_no):
    project = world.register(loan_no=loan_no)
    world.npl(project)
    return world.submit(project)


def test_project_list_searches_by_loan_note_and_sorts(client):
    operator = bank_user()
    for loan_no, principal, maturity in (("SZ-001", "100.00", date(2026, 3, 1)), ("SZ-002", "300.00", date(2026, 1, 1)),
                                         ("GZ-003", "200.00", date(2026, 2, 1))):
        LoanProjectFactory(bank=operator.organisation, loan_no=loan_no, principal=D(principal), maturity_on=maturity)
    client.force_login(operator)
    url = reverse("riskpool:project-list")

    def loan_nos(**params):
        page = client.get(url, params).content.decode()
        return [n for n in ("SZ-001", "SZ-002", "GZ-003") if n in page], page

    assert loan_nos(q="SZ")[0] == ["SZ-001", "SZ-002"]
    _found, page = loan_nos(sort="principal")
    assert page.index("SZ-002") < page.index("GZ-003") < page.index("SZ-001")
    _found, page = loan_nos(sort="maturity")
    assert page.index("SZ-002") < page.index("GZ-003") < page.index("SZ-001")
    assert client.get(url, {"sort": "nonsense"}).status_code == 200  # an unknown order falls back to the default


def test_project_list_bank_filter_for_the_pool_parties_not_for_a_bank(client):
    from tests.factories import MemberFactory

    pool = PoolFactory()
    first, second = MemberFactory(pool=pool), MemberFactory(pool=pool)
    LoanProjectFactory(pool=pool, bank=first.organisation, loan_no="A-1")
    LoanProjectFactory(pool=pool, bank=second.organisation, loan_no="B-1")
    client.force_login(UserFactory(organisation=pool.authority, roles=["authority_admin"]))
    url = reverse("riskpool:project-list")
    page = client.get(url, {"bank": first.organisation_id}).content.decode()
    assert "A-1" in page and "B-1" not in page and 'name="bank"' in page
    client.force_login(bank_user())
    assert 'name="bank"' not in client.get(url).content.decode()


def test_demo_notes_read_in_each_viewers_language(client, world, claim):
    """Issue 13.1: the demo's reviewer notes are stored as msgids, so the English page is English."""
    from riskpool.demo import _note

    note = _note(i18n_text.gettext_lazy("Meets the conditions for compensation."))
    Claim.objects.filter(pk=claim.pk).update(decision_note=note)
    ClaimStep.objects.create(claim=claim, old="submitted", new="approved", on=claim.submitted_on, note=note)
    client.force_login(world.bank_user)
    url = reverse("riskpool:claim-detail", args=[claim.pk])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert english.count("Meets the conditions for compensation.") == 2 and "符合补偿条件" not in english
    assert chinese.count("符合补偿条件") == 2 and "&quot;code&quot;" not in chinese
