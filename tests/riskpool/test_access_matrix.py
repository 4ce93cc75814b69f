"""RP-25: who sees which rows of a risk compensation pool, on every riskpool page and API route.

The routes are enumerated from the URL resolver, so a page or endpoint added later without an
entry in ``ROUTES`` fails ``test_rp25_every_riskpool_route_is_in_the_matrix``. Each route is then
requested, with the world's own rows in its URL, by seven people: a province supervisor whose
region covers the pool, another member bank, another guarantee firm, the pool's reviewer,
treasurer and authority, and the bank (or, for Scheme M, the firm) that owns the rows.

- A route whose URL names a row: everyone who may not see the row gets 403 or 404; a party who
  sees it but whose step it is not gets an error (4xx), never a success.
- A list route: everyone not entitled gets 403, or a page that shows none of the owner's data.
- Everyone entitled gets 200 on a GET; on a POST (sent empty) they are not refused (no 403/404).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import Organisation, Region
from riskpool import access, services
from riskpool.models import MAnnualReport, Objection, SpecialListEntry, Violation
from tests.factories import (
    OrganisationFactory,
    RegionFactory,
    UserFactory,
    api_token,
    bank_user,
    firm_user,
)
from tests.riskpool.factories import World
from tests.riskpool.test_scheme_m import MWorld

pytestmark = pytest.mark.django_db

K = Organisation.Kind
PEOPLE = ("supervisor", "other_bank", "other_firm", "reviewer", "treasurer", "authority", "own_bank", "own_firm")

# Who is entitled to each route (the rest are refused or see nothing of ours).
OVERSEERS = {"reviewer", "treasurer", "authority"}
S_ROW = OVERSEERS | {"own_bank"}  # a Scheme S project or claim
M_ROW = OVERSEERS | {"own_firm"}  # a Scheme M claim
LIST = "list"
ROW = "row"
# Who may see the row a route's URL names (an action on it may be another role's: refused, but
# not as a foreign row).
VIEWERS = {"project": S_ROW, "claim": S_ROW, "claim-action": S_ROW, "m_claim": M_ROW, "m-claim-action": M_ROW}

# name → (kind of route, URL kwargs key, method, entitled people)
ROUTES: dict[str, tuple[str, str | None, str, set[str]]] = {
    # Scheme S pages
    "riskpool:project-list": (LIST, None, "get", {"own_bank", "other_bank"} | OVERSEERS),
    "riskpool:project-create": (LIST, None, "get", {"own_bank", "other_bank"}),
    "riskpool:project-detail": (ROW, "project", "get", S_ROW),
    "riskpool:project-classify": (ROW, "project", "post", {"own_bank"}),
    "riskpool:project-close": (ROW, "project", "post", {"own_bank"}),
    "riskpool:projects-to-close": (LIST, None, "get", {"own_bank", "other_bank"}),
    "riskpool:claim-create": (ROW, "project", "get", {"own_bank"}),
    "riskpool:claim-list": (LIST, None, "get", {"own_bank", "other_bank"} | OVERSEERS),
    "riskpool:claim-detail": (ROW, "claim", "get", S_ROW),
    "riskpool:claim-action": (ROW, "claim-action", "post", {"reviewer"}),
    "riskpool:review-queue": (LIST, None, "get", {"reviewer"}),
    "riskpool:notice-desk": (LIST, None, "get", {"authority"}),  # RP-16 step 3: the authority runs the notice
    "riskpool:notice-start": (LIST, None, "post", {"authority"}),
    "riskpool:claim-document": (ROW, "document", "get", S_ROW),
    "riskpool:objection-decide": (ROW, "objection", "post", {"reviewer"}),
    "riskpool:treasurer-desk": (LIST, None, "get", {"treasurer"}),
    "riskpool:finance-desk": (LIST, None, "get", set()),  # the pool's finance bureau only (RP-16 8c)
    "riskpool:pool-list": (LIST, None, "get", OVERSEERS),
    "riskpool:pool-detail": (ROW, "pool", "get", OVERSEERS),
    "riskpool:funding-plan": (ROW, "pool", "post", {"authority"}),
    "riskpool:pool-budget": (ROW, "pool", "post", {"authority"}),
    "riskpool:project-upload": (LIST, None, "get", {"own_bank", "other_bank"}),
    "riskpool:project-upload-template": (LIST, None, "get", {"own_bank", "other_bank"}),
    # Scheme M pages
    "riskpool:m-home": (LIST, None, "get", set()),  # a redirect to each role's page
    "riskpool:m-claim-list": (LIST, None, "get", {"own_firm", "other_firm"} | OVERSEERS),
    "riskpool:m-claim-create": (LIST, None, "get", {"own_firm", "other_firm"}),
    "riskpool:m-claim-detail": (ROW, "m_claim", "get", M_ROW),
    "riskpool:m-claim-action": (ROW, "m-claim-action", "post", {"reviewer"}),
    "riskpool:m-products": (LIST, None, "get", OVERSEERS),
    "riskpool:m-review": (LIST, None, "get", {"reviewer"}),
    "riskpool:m-pay": (LIST, None, "get", {"treasurer"}),
    "riskpool:m-reports": (LIST, None, "get", OVERSEERS),
    "riskpool:m-report-detail": (ROW, "m_report", "get", OVERSEERS),
    "riskpool:m-report-submit": (ROW, "m_report", "post", {"reviewer"}),
    "riskpool:m-report-export": (ROW, "m_report", "get", OVERSEERS),
    # the authority's pool administration
    "riskpool:admin-home": (LIST, None, "get", {"authority"}),
    "riskpool:admin-members": (ROW, "pool", "get", {"authority"}),
    "riskpool:admin-member-add": (ROW, "pool", "get", {"authority"}),
    "riskpool:admin-member-dishonest": (ROW, "member", "get", {"authority"}),
    "riskpool:admin-member-readmit": (ROW, "member", "get", {"authority"}),
    "riskpool:admin-violations": (ROW, "pool", "get", {"authority"}),
    "riskpool:admin-violation-create": (ROW, "pool", "get", {"authority"}),
    "riskpool:admin-violation-detail": (ROW, "violation", "get", {"authority"}),
    "riskpool:admin-special-list": (ROW, "pool", "get", {"authority"}),
    "riskpool:admin-special-add": (ROW, "pool", "get", {"authority"}),
    "riskpool:admin-special-end": (ROW, "special", "get", {"authority"}),
    "riskpool:pool-quarters-export": (ROW, "pool", "get", OVERSEERS),
    "riskpool:project-late-entry": (ROW, "pool", "get", {"authority"}),  # RP-6: the authority's audited late entry
    # reports
    "riskpool:report-index": (LIST, None, "get", OVERSEERS),
    "riskpool:half-year-report": (ROW, "half-year", "get", OVERSEERS),
    "riskpool:bank-evaluation": (ROW, "evaluation", "get", OVERSEERS),
    "riskpool:quarter-close": (ROW, "quarter", "get", OVERSEERS),
    # REST API
    "riskpool-api:quote": (LIST, None, "get", set()),
    "riskpool-api:bank-evaluation-preview": (LIST, None, "get", set()),
    "riskpool-api:project-list": (LIST, None, "get", {"own_bank", "other_bank"} | OVERSEERS),
    "riskpool-api:project-detail": (ROW, "project", "get", S_ROW),
    "riskpool-api:project-bulk": (LIST, None, "post", {"own_bank", "other_bank"}),
    "riskpool-api:project-classify": (ROW, "project", "post", {"own_bank"}),
    "riskpool-api:claim-list": (LIST, None, "get", {"own_bank", "other_bank"} | OVERSEERS),
    "riskpool-api:claim-detail": (ROW, "claim", "get", S_ROW),
    "riskpool-api:claim-documents": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-document": (ROW, "claim-document", "get", S_ROW),
    "riskpool-api:claim-re-review": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-withdraw": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-to-compensation-library": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-upgrade": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-recoveries": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-nil-recovery-report": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-closure-request": (ROW, "claim", "post", {"own_bank"}),
    "riskpool-api:claim-settlement-request": (ROW, "claim", "post", {"own_bank"}),
}


def _walk(resolvers, prefix: str, namespace: str | None):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + str(entry.pattern), f"{namespace}:{entry.name}", entry


def riskpool_routes() -> dict[str, str]:
    """Every named route under /riskpool/ and /api/riskpool/ (the format-suffix twins of the API
    routes are the same views)."""
    found = {}
    for route, name, pattern in _walk(get_resolver().url_patterns, "", None):
        if not (route.startswith("riskpool/") or route.startswith("api/riskpool/")):
            continue
        if "format" in pattern.pattern.regex.groupindex:
            continue
        found[name] = route
    return found


def test_rp25_every_riskpool_route_is_in_the_matrix():
    assert set(riskpool_routes()) == set(ROUTES)


class Matrix:
    """One Scheme S pool and one Scheme M pool under the same authority, reviewer and treasurer,
    in a city of a province whose supervisor is tried too."""

    def __init__(self):
        province = RegionFactory(code="230000", name="省", level=Region.Level.PROVINCE)
        city = RegionFactory(code="232700", name="市", level=Region.Level.CITY, parent=province)
        self.s = World()
        for org in (self.s.pool.authority, self.s.pool.reviewer, self.s.pool.treasurer, self.s.bank):
            org.region = city
            org.save(update_fields=["region"])
        self.m = MWorld()
        self.m.pool.authority, self.m.pool.reviewer, self.m.pool.treasurer = (
            self.s.pool.authority, self.s.pool.reviewer, self.s.pool.treasurer)
        self.m.pool.save()
        self.claim = self.s.claim()
        self.project = self.claim.project
        self.m_claim = self.m.submit()
        other_bank = bank_user()
        services.member_add(user=self.s.authority, pool=self.s.pool, bank=other_bank.organisation,
                            joined_on=date(2024, 1, 1))
        self.people = {
            "supervisor": UserFactory(organisation=OrganisationFactory(kind=K.SUPERVISOR, region=province),
                                      roles=["province_supervisor"]),
            "other_bank": other_bank, "other_firm": firm_user(),
            "reviewer": self.s.reviewer, "treasurer": self.s.treasurer, "authority": self.s.authority,
            "own_bank": self.s.bank_user, "own_firm": self.m.firm_user,
        }
        self.document = self.claim.documents.get(kind="loan_file")
        self.objection = Objection.objects.create(claim=self.claim, name="x", contact="y", text="z")
        self.violation = Violation.objects.create(pool=self.s.pool, member=self.s.member, kind="misuse",
                                                  recorded_on=date(2025, 5, 1))
        self.special = SpecialListEntry.objects.create(pool=self.s.pool, industry="制造业", ratio=D("0.5"),
                                                       valid_from=date(2025, 1, 1))
        self.m_report = MAnnualReport.objects.create(pool=self.m.pool, year=2025, due_on=date(2026, 3, 31))
        # What must never reach anyone but the owner and the pool's overseers.
        self.secrets = {
            "S": [self.project.borrower.id_number, self.project.loan_no, self.project.borrower.name],
            "M": [self.m_claim.compensation.guarantee.borrower.id_number],
        }

    def kwargs(self, key: str | None) -> dict:
        pool = self.s.pool.pk
        return {
            None: {}, "project": {"pk": self.project.pk}, "claim": {"pk": self.claim.pk},
            "claim-action": {"pk": self.claim.pk, "action": "review"}, "objection": {"pk": self.objection.pk},
            "pool": {"pk": pool}, "m_claim": {"pk": self.m_claim.pk},
            "m-claim-action": {"pk": self.m_claim.pk, "action": "review"}, "m_report": {"pk": self.m_report.pk},
            "member": {"pk": self.s.member.pk}, "violation": {"pk": self.violation.pk},
            "special": {"pk": self.special.pk}, "half-year": {"pk": pool, "period": "2025H1"},
            "document": {"pk": self.document.pk},
            "claim-document": {"pk": self.claim.pk, "document_id": self.document.pk},
            "evaluation": {"pk": pool, "year": 2025}, "quarter": {"pk": pool, "period": "2025Q2"},
        }[key]


@pytest.fixture
def matrix():
    return Matrix()


def _request(client, name: str, key, method: str, matrix: Matrix, person: str):
    url = reverse(name, kwargs=matrix.kwargs(key))
    user = matrix.people[person]
    client.logout()
    if name.startswith("riskpool-api:"):
        _token, raw = api_token(user)
        return getattr(client, method)(url, HTTP_AUTHORIZATION=f"Token {raw}", content_type="application/json")
    client.force_login(user)
    return getattr(client, method)(url)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_rp25_each_route_refuses_foreign_rows_and_serves_own(client, matrix, name):
    kind, key, method, entitled = ROUTES[name]
    secrets = matrix.secrets["M" if ":m-" in name else "S"]
    for person in PEOPLE:
        response = _request(client, name, key, method, matrix, person)
        status = response.status_code
        if person in entitled:
            if method == "get":
                assert status == 200, (name, person, status)
            else:
                assert status not in (403, 404), (name, person, status)
            continue
        if kind == ROW and person in VIEWERS.get(key, OVERSEERS):
            assert status >= 400, (name, person, status)  # sees the row, but the step is not theirs
        elif kind == ROW:
            assert status in (403, 404), (name, person, status)
        elif status == 200:
            body = response.content.decode(errors="replace")
            leaked = [s for s in secrets if s in body]
            assert not leaked, (name, person, leaked)
        else:
            assert status in (302, 400, 403, 404, 405), (name, person, status)


def test_rp25_a_province_supervisor_is_no_party_of_a_pool_in_its_province(matrix):
    supervisor = matrix.people["supervisor"]
    assert access.party_of(supervisor, matrix.s.pool) == set()
    assert not access.oversees(supervisor, matrix.s.pool)
    from riskpool.models import Claim, LoanProject, MClaim

    assert not LoanProject.objects.filter(access.project_q(supervisor)).exists()
    assert not Claim.objects.filter(access.claim_q(supervisor)).exists()
    assert not MClaim.objects.filter(access.m_claim_q(supervisor)).exists()


def test_rp25_the_pools_parties_by_role(matrix):
    pool, people = matrix.s.pool, matrix.people
    assert access.party_of(people["reviewer"], pool) == {access.Party.REVIEWER}
    assert access.party_of(people["treasurer"], pool) == {access.Party.TREASURER}
    assert access.party_of(people["authority"], pool) == {access.Party.AUTHORITY}
    assert access.party_of(people["own_bank"], pool) == {access.Party.BANK}
    assert access.party_of(people["other_firm"], pool) == set()
    assert access.oversees(people["authority"], pool) and not access.oversees(people["own_bank"], pool)
