"""Issue 12, JB-7 linear in the data: RP-20's figures per bank-year (BankYear: distinct borrowers
and principal; BankYearBorrower: a borrower's loans in it) are kept as loans are written, by
triggers on the loan project table (migration 0021). Every write path keeps them equal to a live
recount over the projects: the single entry and the authority's late entry, the API (one loan and bulk), the
set-based file import (COPY, in chunks), ORM writes (the factories, the admin), deletes and the
updates that move a loan to another bank-year; and JB-7 reads the same RP-20 figures from it as a
COUNT(DISTINCT borrower) over the projects gives. (The generator's COPY and its --replace are
checked by test_generate's consistency_problems.)"""
from __future__ import annotations

import threading
import time
import types
from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from rest_framework.test import APIClient

from core import calendar as core_calendar
from riskpool import imports, services
from riskpool.models import BankYear, BankYearBorrower, LoanProject, Member
from riskpool.services_reports import (
    _evaluated_members,
    bank_year_drift,
    bank_year_rows,
)
from tests.factories import (
    BorrowerDataFactory,
    BorrowerFactory,
    LoanProjectFactory,
    MemberFactory,
    PoolFactory,
    riskpool_project_payload,
)
from tests.riskpool.factories import example_data
from tests.riskpool.test_imports import csv_file, row

pytestmark = pytest.mark.django_db
LATER = date(2027, 1, 1)  # a maturity after every disbursement of the tests


@pytest.fixture
def today(monkeypatch):
    def set_today(day: date) -> None:
        monkeypatch.setattr(core_calendar, "timezone", types.SimpleNamespace(localdate=lambda **kwargs: day))

    return set_today


def kept(pool, bank) -> dict[tuple[int, int], int]:
    """(year, borrower) -> projects of the bank in the pool, as kept."""
    return {(r.year, r.borrower_id): r.projects for r in BankYearBorrower.objects.filter(pool=pool, bank=bank)}


def per_year(pool, bank) -> dict[int, tuple[int, D]]:
    return {r.year: (r.borrowers, r.amount) for r in BankYear.objects.filter(pool=pool, bank=bank)}


def assert_exact():
    assert bank_year_drift() == 0
    assert not BankYearBorrower.objects.filter(projects__lte=0).exists()
    assert not BankYear.objects.filter(borrowers__lte=0).exists()


# --- every write path -------------------------------------------------------------------------


def test_rp20_single_entry_and_late_entry_keep_the_borrowers_exact(world, today):
    today(date(2024, 6, 3))
    borrower = BorrowerDataFactory()
    first = services.project_register(user=world.bank_user, pool=world.pool, borrower=borrower,
                                      data=example_data(loan_no="ONE-1"))
    services.project_register(user=world.bank_user, pool=world.pool, borrower=borrower,
                              data=example_data(loan_no="ONE-2"))
    services.project_register_late(user=world.authority, pool=world.pool, bank=world.bank, borrower=BorrowerDataFactory(),
                                   data=example_data(loan_no="LATE-1", entered_on=date(2024, 6, 3)), reason="系统故障")
    counts = kept(world.pool, world.bank)
    assert counts[(2024, first.borrower_id)] == 2  # one borrower, two loans: one row
    assert sorted(counts.values()) == [1, 1, 2]  # and the late entry's borrower, and the world's ballast loan
    assert_exact()


def test_rp20_api_one_loan_and_bulk_keep_the_borrowers_exact(world, today):
    today(date(2024, 6, 3))
    client = APIClient()
    client.force_login(world.bank_user)
    first = riskpool_project_payload()
    url, bulk = reverse("riskpool-api:project-list"), reverse("riskpool-api:project-bulk")
    assert client.post(url, {"pool": world.pool.pk, **first}, format="json").status_code == 201
    again = riskpool_project_payload(borrower=first["borrower"])
    rows = [again, riskpool_project_payload(), riskpool_project_payload(borrower=first["borrower"])]
    response = client.post(bulk, {"pool": world.pool.pk, "projects": rows}, format="json")
    assert response.status_code == 201, response.json()
    borrower = LoanProject.objects.get(loan_no=first["loan_no"]).borrower_id
    assert kept(world.pool, world.bank)[(2024, borrower)] == 3
    assert_exact()


def test_rp20_file_import_in_chunks_keeps_the_borrowers_exact(world, settings):
    settings.BULK_IMPORT_CHUNK_ROWS = 2  # several COPY statements; one borrower in three chunks
    shared = row(1)
    same = {"证件号码": shared["证件号码"], "借款人名称": shared["借款人名称"]}
    rows = [shared, row(2), row(3, **same), row(4), row(5, **same)]
    content = csv_file(rows).read()
    assert imports.import_content(user=world.bank_user, pool=world.pool, content=content) == 5
    borrower = LoanProject.objects.get(loan_no=shared["借据号"]).borrower_id
    year = LoanProject.objects.get(loan_no=shared["借据号"]).disbursed_on.year
    assert kept(world.pool, world.bank)[(year, borrower)] == 3
    assert_exact()


def test_rp20_orm_writes_deletes_and_moves_keep_the_borrowers_exact():
    pool, other_pool = PoolFactory(), PoolFactory()
    a, b = (MemberFactory(pool=pool).organisation for _ in range(2))
    borrower = BorrowerFactory(owner=a)
    loans = [LoanProjectFactory(pool=pool, bank=a, borrower=borrower, disbursed_on=date(2024, m, 1), maturity_on=LATER)
             for m in (2, 5, 8)]
    LoanProjectFactory.create_batch(3, pool=pool, bank=b, disbursed_on=date(2025, 3, 1), maturity_on=LATER)
    LoanProjectFactory(pool=other_pool, bank=a, borrower=borrower, disbursed_on=date(2024, 3, 1), maturity_on=LATER)
    assert kept(pool, a) == {(2024, borrower.pk): 3}
    assert per_year(pool, a) == {2024: (1, D("3000000.00"))}
    assert_exact()

    # Updates that keep the bank-year change nothing; those that move the loan move it.
    LoanProject.objects.filter(pk=loans[0].pk).update(disbursed_on=date(2024, 12, 31), library="closed")
    assert kept(pool, a) == {(2024, borrower.pk): 3}
    LoanProject.objects.filter(pk=loans[0].pk).update(disbursed_on=date(2025, 1, 1))
    assert kept(pool, a) == {(2024, borrower.pk): 2, (2025, borrower.pk): 1}
    loans[1].borrower = BorrowerFactory(owner=a)
    loans[1].save()
    assert kept(pool, a) == {(2024, borrower.pk): 1, (2025, borrower.pk): 1, (2024, loans[1].borrower_id): 1}
    LoanProject.objects.filter(pk=loans[1].pk).update(principal_yuan=D("1234567.89"))  # RP-20's amount follows
    assert BankYearBorrower.objects.get(borrower=loans[1].borrower_id).amount == D("1234567.89")
    LoanProject.objects.filter(pk=loans[2].pk).update(bank=b, pool=other_pool)
    assert kept(pool, a) == {(2025, borrower.pk): 1, (2024, loans[1].borrower_id): 1}
    assert_exact()

    # Deletes: two of a borrower-year's three loans in one statement, then the last.
    moved = LoanProjectFactory.create_batch(2, pool=pool, bank=a, borrower=borrower, disbursed_on=date(2025, 6, 1),
                                            maturity_on=LATER)
    assert kept(pool, a)[(2025, borrower.pk)] == 3
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM riskpool_loanproject WHERE id IN (%s, %s)", [moved[0].pk, moved[1].pk])
    assert kept(pool, a)[(2025, borrower.pk)] == 1
    LoanProject.objects.filter(pool=pool, bank=a).delete()
    assert kept(pool, a) == {} and per_year(pool, a) == {}
    assert_exact()

    # Bulk ORM inserts (one statement for several loans of one borrower-year).
    LoanProject.objects.bulk_create([
        LoanProjectFactory.build(pool=pool, bank=a, borrower=borrower, disbursed_on=date(2023, m, 1), maturity_on=LATER)
        for m in (1, 2)
    ])
    assert kept(pool, a) == {(2023, borrower.pk): 2}
    assert per_year(pool, a) == {2023: (1, D("2000000.00"))}
    assert_exact()


@pytest.mark.postgres
def test_rp20_a_truncate_empties_the_borrowers_too():
    if connection.vendor != "postgresql":
        return  # TRUNCATE is PostgreSQL's (SQLite has none); its trigger is PostgreSQL's only
    LoanProjectFactory.create_batch(2)
    assert BankYearBorrower.objects.count() == 2 and BankYear.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's deferred foreign-key checks, done now
        cursor.execute("TRUNCATE riskpool_loanproject CASCADE")
    assert BankYearBorrower.objects.count() == 0 and BankYear.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rp20_a_delete_waiting_for_a_concurrent_entry_of_the_same_borrower_year_stays_exact():
    """The entry's transaction holds the borrower-year's row when the delete reaches it; the
    delete waits, then lowers the count the entry left (not the one it saw when it began)."""
    if connection.vendor != "postgresql":
        return  # row locks and concurrent transactions are PostgreSQL's
    pool = PoolFactory()
    bank = MemberFactory(pool=pool).organisation
    borrower = BorrowerFactory(owner=bank)
    first = LoanProjectFactory(pool=pool, bank=bank, borrower=borrower, disbursed_on=date(2025, 3, 1), maturity_on=LATER)
    entered = threading.Event()

    def enter() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                LoanProjectFactory(pool=pool, bank=bank, borrower=borrower, disbursed_on=date(2025, 6, 1),
                                   maturity_on=LATER)
                entered.set()
                for _ in range(400):  # commit once the delete waits for this transaction's row lock
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.025)
        finally:
            connections.close_all()

    thread = threading.Thread(target=enter)
    thread.start()
    assert entered.wait(30)
    LoanProject.objects.filter(pk=first.pk).delete()
    thread.join()
    assert kept(pool, bank) == {(2025, borrower.pk): 1}
    assert per_year(pool, bank) == {2025: (1, D("1000000.00"))}
    assert_exact()


# --- JB-7 reads the same figures --------------------------------------------------------------


def live_figures(year: int) -> dict[tuple[int, int], dict]:
    """RP-20 A and N as JB-7 computed them before issue 12: COUNT(DISTINCT borrower) over the loans."""
    start = date(year, 1, 1)
    in_year, in_prev = Q(disbursed_on__gte=start), Q(disbursed_on__lt=start)
    rows = (
        LoanProject.objects.filter(disbursed_on__gte=date(year - 1, 1, 1), disbursed_on__lte=date(year, 12, 31))
        .values("pool_id", "bank_id")
        .annotate(amount=Sum("principal_yuan", filter=in_year, default=D(0)),
                  borrowers=Count("borrower_id", filter=in_year, distinct=True),
                  prev_amount=Sum("principal_yuan", filter=in_prev, default=D(0)),
                  prev_borrowers=Count("borrower_id", filter=in_prev, distinct=True))
        .order_by()
    )
    return {(r["pool_id"], r["bank_id"]): r for r in rows}


def test_jb7_rp20_figures_equal_a_count_distinct_over_the_loans():
    pool, other = PoolFactory(), PoolFactory()
    members = [MemberFactory(pool=pool, joined_on=date(2022, 1, 1)) for _ in range(3)]
    shared_bank = members[0].organisation
    MemberFactory(pool=other, organisation=shared_bank, joined_on=date(2022, 1, 1))
    for i, member in enumerate(members):
        bank = member.organisation
        regulars = [BorrowerFactory(owner=bank) for _ in range(3 + i)]
        for year in (2023, 2024, 2025):
            for n, borrower in enumerate(regulars[: 2 + (year + i) % 3]):
                for month in range(1, 2 + n % 3):  # some borrowers twice or three times a year
                    LoanProjectFactory(pool=pool, bank=bank, borrower=borrower, principal=D(100000 * (n + 1)),
                                       disbursed_on=date(year, month, 15), maturity_on=date(year + 1, 6, 1))
    LoanProjectFactory(pool=other, bank=shared_bank, disbursed_on=date(2025, 4, 1), maturity_on=date(2026, 4, 1))
    LoanProjectFactory(pool=pool, bank=members[2].organisation, disbursed_on=date(2025, 7, 1),
                       maturity_on=date(2026, 7, 1)).delete()
    moved = LoanProject.objects.filter(pool=pool, bank=members[1].organisation, disbursed_on__year=2024).first()
    LoanProject.objects.filter(pk=moved.pk).update(disbursed_on=date(2025, 2, 2))
    MemberFactory(pool=pool, joined_on=date(2022, 1, 1))  # a member without loans

    for year in (2024, 2025):
        expected = live_figures(year)
        evaluated = _evaluated_members(year)
        assert len(evaluated) == Member.objects.count()
        for member, got in zip(evaluated, bank_year_rows(evaluated, year), strict=True):
            live = expected.get((member.pool_id, member.organisation_id),
                                {"amount": D(0), "borrowers": 0, "prev_amount": D(0), "prev_borrowers": 0})
            assert (got.amount, got.borrowers, got.prev_amount, got.prev_borrowers) == (
                live["amount"], live["borrowers"], live["prev_amount"], live["prev_borrowers"])
    assert expected[(pool.pk, members[0].organisation_id)]["borrowers"] > 0
