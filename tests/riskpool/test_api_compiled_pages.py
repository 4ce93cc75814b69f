"""Issue 12: the project API compiles a caller's page query once per query string and reuses it
for the next pages (core.api.compiled).

Every page served that way equals the page the ORM builds afresh: for every role, every filter,
forwards and backwards, and for odd cursors. A later page runs one query. One caller's entry is
never served to another. A changed scope shows once the entry has expired."""
from __future__ import annotations

import base64
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.api import compiled
from core.models import Organisation
from riskpool import services
from riskpool.api import _PROJECT_PAGES
from riskpool.models import LoanProject
from tests.factories import (
    LoanProjectFactory,
    OrganisationFactory,
    PoolFactory,
    RegionFactory,
    UserFactory,
    authority_user,
    bank_user,
)
from tests.riskpool.test_api import World

pytestmark = pytest.mark.django_db

URL = "/api/riskpool/projects/"


@pytest.fixture
def remembered(settings):
    """Compiled pages on, as in production (the test settings turn remembering off)."""
    settings.API_TOKEN_CACHE_SECONDS = 5
    _PROJECT_PAGES.clear()
    yield settings
    _PROJECT_PAGES.clear()


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The compiled pages' clock, moved by hand (``clock[0] += seconds``)."""
    now = [1000.0]
    monkeypatch.setattr(compiled.time, "monotonic", lambda: now[0])
    return now


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _world():
    """Two member banks with loans of several dates, classifications and numbers, and a second
    pool of another authority with loans of its own."""
    world = World()
    world.other_bank_user = bank_user()
    world.join(world.other_bank_user.organisation)
    for i in range(7):
        for bank in (world.bank, world.other_bank_user.organisation):
            LoanProjectFactory(pool=world.pool, bank=bank, loan_no=f"W-{i:02d}-{bank.pk}",
                               disbursed_on=date(2024, 1, 10) + timedelta(days=40 * i),
                               classification=("substandard", "doubtful", "normal")[i % 3])
    LoanProject.objects.filter(bank=world.bank, classification="doubtful").update(library="npl")
    world.far_pool = PoolFactory()
    for _ in range(3):
        LoanProjectFactory(pool=world.far_pool, bank=world.bank)
    return world


def _people(world) -> dict:
    supervisor_org = OrganisationFactory(kind=Organisation.Kind.SUPERVISOR, region=world.pool.authority.region)
    return {
        "bank": world.bank_user,
        "other_bank": world.other_bank_user,
        "reviewer": world.reviewer,
        "treasurer": world.treasurer,
        "authority": world.authority,
        "jurisdiction_authority": authority_user(world.pool.authority.region),
        "far_authority": authority_user(RegionFactory(code="650000")),
        "superuser": UserFactory(is_superuser=True, organisation=None),
        "supervisor": UserFactory(organisation=supervisor_org, roles=["supervisor"]),
    }


def _queries(world) -> list[str]:
    return [
        "", "?page_size=3", "?page_size=3&library=loan", "?page_size=2&classification=substandard&classification=doubtful",
        "?page_size=4&disbursed_on_after=2024-03-01&disbursed_on_before=2024-09-30", "?loan_no=W-0&page_size=2",
        f"?pool={world.pool.pk}&page_size=5", f"?page_size=2&pool={world.far_pool.pk}&library=loan",
        "?disbursed_on_after=not-a-date", "?page_size=0",
    ]


def _read(client, url):
    response = client.get(url)
    return response.status_code, response.json()


def _walk(client, url) -> list:
    """Every page from ``url`` forwards, then back again by the previous links."""
    status, body = _read(client, url)
    pages = [(status, body)]
    if status != 200:
        return pages
    while body["next"]:
        status, body = _read(client, body["next"])
        pages.append((status, body))
    while body["previous"]:
        status, body = _read(client, body["previous"])
        pages.append((status, body))
    return pages


def test_compiled_pages_equal_the_orms_for_every_role_and_filter(remembered):
    world = _world()
    people = _people(world)
    client = APIClient()
    walked = 0
    for who, user in people.items():
        client.force_authenticate(user)
        for query in _queries(world):
            remembered.API_TOKEN_CACHE_SECONDS = 0
            fresh = _walk(client, URL + query)
            remembered.API_TOKEN_CACHE_SECONDS = 5
            first = _walk(client, URL + query)  # compiles
            again = _walk(client, URL + query)  # reuses
            assert first == fresh and again == fresh, (who, query)
            walked += len(fresh)
    assert walked > 150
    # Entries were made (and so served the walks above), each under its own caller.
    callers = {key[0][0] for key in _PROJECT_PAGES._entries}
    assert {people[who].pk for who in ("bank", "other_bank", "reviewer", "authority", "superuser")} <= callers


def test_each_caller_sees_only_their_rows_with_entries_of_others_warm(remembered):
    world = _world()
    client = APIClient()
    for user in (world.bank_user, world.other_bank_user, world.bank_user):
        client.force_authenticate(user)
        banks = {row["bank"] for _status, body in _walk(client, URL + "?page_size=3") for row in body["results"]}
        assert banks == {user.organisation_id}


def test_a_later_page_runs_one_query_the_orms_sql(remembered):
    world = _world()
    client = _client(world.authority)
    _status, first = _read(client, URL + "?page_size=3")
    _status, second = _read(client, first["next"])  # the first page with a cursor compiles its query
    with CaptureQueriesContext(connection) as later:
        _status, third = _read(client, second["next"])
    assert len(later.captured_queries) == 1  # no look-up of the pools overseen, no query building
    remembered.API_TOKEN_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as fresh:
        _status, expected = _read(client, second["next"])
    assert third == expected and len(third["results"]) == 3
    assert later.captured_queries[0]["sql"] == fresh.captured_queries[-1]["sql"]


def _cursor(position: str) -> str:
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


@pytest.mark.parametrize("position", ["12", "abc", "1.5", str(2**40), "-7", ""])
def test_an_odd_cursor_position_answers_as_the_orm_does(remembered, position):
    world = _world()
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(world.bank_user)
    _read(client, URL + "?page_size=3")  # an entry with a position exists for this caller
    _read(client, _read(client, URL + "?page_size=3")[1]["next"])
    url = f"{URL}?page_size=3&cursor={_cursor(position)}"
    remembered.API_TOKEN_CACHE_SECONDS = 0
    fresh = client.get(url)
    remembered.API_TOKEN_CACHE_SECONDS = 5
    served = client.get(url)
    assert (served.status_code, served.content) == (fresh.status_code, fresh.content)
    assert served.status_code in (200, 404)


def test_a_pool_given_to_or_taken_from_the_reviewer_shows_once_the_entry_expired(remembered, clock):
    world = _world()
    client = _client(world.reviewer)

    def pools_listed():
        return {row["pool"] for _status, body in _walk(client, URL + "?page_size=4") for row in body["results"]}

    assert pools_listed() == {world.pool.pk}
    new_pool = PoolFactory(reviewer=world.pool.reviewer)
    services.member_add(user=UserFactory(organisation=new_pool.authority, roles=["authority_admin"]), pool=new_pool,
                        bank=world.bank, joined_on=date(2024, 1, 1))
    LoanProjectFactory(pool=new_pool, bank=world.bank)
    clock[0] += 4.9
    assert pools_listed() == {world.pool.pk}  # within API_TOKEN_CACHE_SECONDS: the scope read before
    clock[0] += 0.2
    assert pools_listed() == {world.pool.pk, new_pool.pk}
    # Taken from the reviewer: gone from its pages within the same seconds.
    new_pool.reviewer = OrganisationFactory(kind=Organisation.Kind.POOL_REVIEWER)
    new_pool.save()
    clock[0] += 4.9
    assert pools_listed() == {world.pool.pk, new_pool.pk}
    clock[0] += 0.2
    assert pools_listed() == {world.pool.pk}


def test_nothing_is_kept_when_remembering_is_off(settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    _PROJECT_PAGES.clear()
    world = _world()
    client = _client(world.bank_user)
    _walk(client, URL + "?page_size=3")
    assert _PROJECT_PAGES._entries == {}


def test_a_caller_who_sees_nothing_is_answered_by_the_orm_without_a_query(remembered):
    world = _world()
    client = _client(authority_user(RegionFactory(code="650000")))
    for _ in range(2):
        with CaptureQueriesContext(connection) as read:
            status, body = _read(client, URL)
        assert status == 200 and body["results"] == []
        assert [q["sql"] for q in read.captured_queries if "riskpool_loanproject" in q["sql"]] == []
    assert [entry.sql for entry in _PROJECT_PAGES._entries.values()] == [""]
    assert world.pool.pk  # the world's rows exist; this authority's region holds none of them


def test_a_full_store_drops_the_expired_entries_first(remembered, clock, monkeypatch):
    world = _world()
    client = _client(world.bank_user)
    monkeypatch.setattr(_PROJECT_PAGES, "max_entries", 3)
    for size in (1, 2):
        _read(client, f"{URL}?page_size={size}")
    clock[0] += 6  # those two expired
    for size in (3, 4, 5):
        _read(client, f"{URL}?page_size={size}")
    assert sorted(dict(key[0][3])["page_size"] for key in _PROJECT_PAGES._entries) == [("3",), ("4",), ("5",)]
    _read(client, f"{URL}?page_size=6")  # full of live entries: started again
    assert [dict(key[0][3])["page_size"] for key in _PROJECT_PAGES._entries] == [("6",)]
