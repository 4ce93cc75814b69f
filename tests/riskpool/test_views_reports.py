"""The pool's report pages: RP-23 half-year statistics (JB-6) and the RP-20 annual bank
evaluation with RP-22 revocations (JB-7), on screen and as xlsx, only for the pool's authority,
reviewer and treasurer."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import Organisation
from riskpool.models import (
    BankEvaluation,
    HalfYearReport,
    MissingRecoveryReport,
    PoolQuarterSnapshot,
    QuarterBankReport,
)
from tests.factories import (
    ClaimFactory,
    MemberFactory,
    OrganisationFactory,
    PoolFactory,
    RegionFactory,
    UserFactory,
    bank_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    pool = PoolFactory()
    good = MemberFactory(pool=pool, organisation__name="甲银行")
    bad = MemberFactory(pool=pool, organisation__name="乙银行", revoked_on=date(2026, 2, 20), may_reapply_on=date(2028, 2, 20))
    HalfYearReport.objects.create(pool=pool, period="2025H1", member=good, claims_submitted=3, claims_approved=2,
                                  claims_paid=1, paid_amount=D("1200000.00"), returned_amount=D("400000.00"),
                                  recoveries_gross=D("800000.00"), closures=1)
    HalfYearReport.objects.create(pool=pool, period="2025H1", member=bad, claims_submitted=1)
    BankEvaluation.objects.create(pool=pool, year=2025, member=good, amount=D("900000000.00"), borrowers=1200,
                                  prev_amount=D("750000000.00"), growth=D("0.200000"), rank_amount=1, rank_borrowers=1,
                                  rank_growth=1, grade="excellent")
    BankEvaluation.objects.create(pool=pool, year=2025, member=bad, amount=D("1.00"), borrowers=1, rank_amount=2,
                                  rank_borrowers=2, violation=True, grade="unqualified")
    return pool


def people(pool) -> dict:
    elsewhere = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, organisation__region=RegionFactory(),
                            roles=["authority_admin"])
    return {
        "authority": UserFactory(organisation=pool.authority, roles=["authority_admin"]),
        "reviewer": UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"]),
        "treasurer": UserFactory(organisation=pool.treasurer, roles=["pool_treasurer"]),
        "bank": bank_user(),
        "elsewhere": elsewhere,
        "other_reviewer": UserFactory(organisation=OrganisationFactory(kind=Organisation.Kind.POOL_REVIEWER),
                                      roles=["pool_reviewer"]),
    }


PAGES = {
    "riskpool:report-index": (lambda pool: [], {"authority": 200, "reviewer": 200, "treasurer": 200, "bank": 403}),
    "riskpool:half-year-report": (lambda pool: [pool.pk, "2025H1"], {
        "authority": 200, "reviewer": 200, "treasurer": 200, "bank": 403, "elsewhere": 404, "other_reviewer": 404}),
    "riskpool:bank-evaluation": (lambda pool: [pool.pk, 2025], {
        "authority": 200, "reviewer": 200, "treasurer": 200, "bank": 403, "elsewhere": 404, "other_reviewer": 404}),
    "riskpool:quarter-close": (lambda pool: [pool.pk, "2025Q1"], {
        "authority": 200, "reviewer": 200, "treasurer": 200, "bank": 403, "elsewhere": 404, "other_reviewer": 404}),
}


def test_every_report_url_is_in_the_access_table():
    from riskpool import urls as riskpool_urls

    assert {f"riskpool:{p.name}" for p in riskpool_urls.reports_patterns} == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_report_page_for_its_readers_and_refused_for_others(client, pool, name):
    args, expected = PAGES[name]
    users = people(pool)
    for who, status in expected.items():
        client.force_login(users[who])
        assert client.get(reverse(name, args=args(pool))).status_code == status, who


def test_the_index_lists_only_the_pools_the_user_oversees(client, pool):
    other = PoolFactory(name="别处的资金池")
    client.force_login(UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"]))
    page = client.get(reverse("riskpool:report-index")).content.decode()
    assert pool.name in page and other.name not in page
    assert reverse("riskpool:half-year-report", args=[pool.pk, "2025H1"]) in page
    assert reverse("riskpool:bank-evaluation", args=[pool.pk, 2025]) in page


def test_rp23_half_year_page_and_its_xlsx_have_the_same_rows_and_totals(client, pool):
    client.force_login(UserFactory(organisation=pool.authority, roles=["authority_admin"]))
    url = reverse("riskpool:half-year-report", args=[pool.pk, "2025H1"])
    page = client.get(url).content.decode()
    assert "甲银行" in page and "1,200,000.00" in page and "<tfoot>" in page
    response = client.get(url, {"export": "xlsx"})
    sheet = load_workbook(BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    assert sorted(rows) == [["乙银行", 1, 0, 0, 0, 0, 0, 0], ["甲银行", 3, 2, 1, 1200000, 400000, 800000, 1]]


def test_rp23_a_half_year_without_report_says_so_and_a_bad_period_is_404(client, pool):
    client.force_login(UserFactory(organisation=pool.authority, roles=["authority_admin"]))
    assert "has not run" in client.get(reverse("riskpool:half-year-report", args=[pool.pk, "2024H2"])).content.decode()
    assert client.get(reverse("riskpool:half-year-report", args=[pool.pk, "2025Q1"])).status_code == 404


def test_rp20_rp22_evaluation_page_shows_grades_ranks_and_revocations(client, pool):
    client.force_login(UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"]))
    url = reverse("riskpool:bank-evaluation", args=[pool.pk, 2025])
    page = client.get(url).content.decode()
    assert 'data-grade="excellent"' in page and 'data-grade="unqualified"' in page
    assert "20.00%" in page and "2028-02-20" in page  # growth, and when 乙银行 may apply again
    sheet = load_workbook(BytesIO(client.get(url, {"export": "xlsx"}).content)).active
    first = [c.value for c in next(sheet.iter_rows(min_row=5, max_row=5))]
    assert first[0] == "甲银行" and first[4] == pytest.approx(0.2) and first[-1] == "Excellent"


def test_report_pages_run_a_constant_number_of_queries(client, pool, django_assert_max_num_queries):
    for n in range(5):
        member = MemberFactory(pool=pool)
        HalfYearReport.objects.create(pool=pool, period="2025H1", member=member)
        BankEvaluation.objects.create(pool=pool, year=2025, member=member, amount=D("1.00"), borrowers=1,
                                      rank_amount=3 + n, rank_borrowers=3, grade="qualified")
    client.force_login(UserFactory(organisation=pool.authority, roles=["authority_admin"]))
    for url in (reverse("riskpool:half-year-report", args=[pool.pk, "2025H1"]),
                reverse("riskpool:bank-evaluation", args=[pool.pk, 2025])):
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


def test_rp6_rp16_quarter_close_page_lists_banks_missing_reports_and_the_pool_figures(client, pool):
    member = pool.members.get(organisation__name="甲银行")
    claim = ClaimFactory(project__pool=pool, project__bank=member.organisation, state="recovering")
    PoolQuarterSnapshot.objects.create(pool=pool, period="2025Q1", paid=D("1200000.00"), returned=D("400000.00"),
                                       balance=D("8800000.00"), entry_window_closed_on=date(2025, 4, 22))
    QuarterBankReport.objects.create(pool=pool, period="2025Q1", member=member, window_projects=4,
                                     entered_in_quarter=3, recovery_claims=2, reports_missing=1)
    MissingRecoveryReport.objects.create(pool=pool, period="2025Q1", member=member, claim=claim, due_on=date(2025, 4, 22))
    client.force_login(UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"]))
    assert reverse("riskpool:quarter-close", args=[pool.pk, "2025Q1"]) in client.get(
        reverse("riskpool:report-index")).content.decode()
    page = client.get(reverse("riskpool:quarter-close", args=[pool.pk, "2025Q1"])).content.decode()
    assert "2025-04-22" in page and claim.project.loan_no in page and "880.00" in page  # balance in 万元
    sheet = load_workbook(BytesIO(client.get(reverse("riskpool:quarter-close", args=[pool.pk, "2025Q1"]),
                                             {"export": "xlsx"}).content)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=5, max_row=5))][:2] == ["甲银行", 4]
    assert client.get(reverse("riskpool:quarter-close", args=[pool.pk, "2025H1"])).status_code == 404


@pytest.mark.parametrize("name, period", [("half-year-report", "2025H1"), ("bank-evaluation", 2025)])
def test_report_xlsx_writes_a_bank_name_typed_as_a_formula_as_text(client, pool, name, period):
    """Issue 10 point 3."""
    from tests.spreadsheets import HOSTILE, assert_literal

    Organisation.objects.filter(name="甲银行").update(name=HOSTILE)
    client.force_login(UserFactory(organisation=pool.authority, roles=["authority_admin"]))
    assert_literal(client.get(reverse(f"riskpool:{name}", args=[pool.pk, period]), {"export": "xlsx"}).content)


def test_quarter_close_xlsx_writes_a_bank_name_typed_as_a_formula_as_text(client, pool):
    """Issue 10 point 3."""
    from tests.spreadsheets import HOSTILE, assert_literal

    member = pool.members.get(organisation__name="甲银行")
    QuarterBankReport.objects.create(pool=pool, period="2025Q1", member=member, window_projects=1)
    Organisation.objects.filter(pk=member.organisation_id).update(name=HOSTILE)
    client.force_login(UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"]))
    assert_literal(client.get(reverse("riskpool:quarter-close", args=[pool.pk, "2025Q1"]), {"export": "xlsx"}).content)
