"""Issue 12: the loan-project upload is set-based. Its queries do not grow with the rows, one bad
row still saves nothing (even after earlier chunks were written), every problem of a row is
listed with its column, a large file runs as a Celery task with a progress page and a result
page (errors downloadable as xlsx), and another organisation cannot see that page."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from core.bulk import BulkRejected
from core.calendar import shanghai_today
from core.models import AuditEvent, ImportRun
from guarantees.models import Borrower
from riskpool import imports
from riskpool.models import LoanProject
from tests.factories import bank_user
from tests.riskpool.test_imports import HEADERS, csv_file, row

pytestmark = pytest.mark.django_db


def content(rows) -> bytes:
    return csv_file(rows).read()


def enter(world, rows, **kwargs):
    return imports.import_content(user=world.bank_user, pool=world.pool, content=content(rows), **kwargs)


@pytest.fixture
def own_cache(settings):
    """A cache of the test's own: another test run sharing the Redis database cannot empty it
    between the two uploads compared (the working-day calendar is read through it)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def queries_for(world, count: int, start: int) -> int:
    rows = [row(n) for n in range(start, start + count)]
    with CaptureQueriesContext(connection) as ctx:
        assert enter(world, rows) == count
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_rows(world, own_cache):
    queries_for(world, 1, 1000)  # the first upload fills the caches (the working-day calendar)
    assert queries_for(world, 10, 1) == queries_for(world, 200, 100)
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 211
    # Each loan and each new borrower has its audit row, as when entered one by one.
    assert AuditEvent.objects.filter(object_type="riskpool.loanproject", summary__contains="JJ-UP-").count() == 211
    assert AuditEvent.objects.filter(object_type="guarantees.borrower", action="create").count() >= 211


def test_a_known_borrower_is_updated_and_audited_once_in_bulk(world):
    first = row(1)
    enter(world, [first])
    again = row(2, **{"证件号码": first["证件号码"], "借款人名称": first["借款人名称"], "企业规模(填报)": "微型"})
    enter(world, [again])
    borrower = Borrower.objects.get(owner=world.bank, id_number=first["证件号码"])
    assert borrower.size_entered == "micro" and borrower.loan_projects.count() == 2
    assert AuditEvent.objects.filter(object_type="guarantees.borrower", object_id=str(borrower.pk), action="update").count() == 1


def test_one_bad_row_after_written_chunks_saves_nothing(world, settings):
    settings.BULK_IMPORT_CHUNK_ROWS = 20
    rows = [row(n) for n in range(1, 61)]
    rows[49]["贷款本金"] = "0"
    projects, borrowers, events = LoanProject.objects.count(), Borrower.objects.count(), AuditEvent.objects.count()
    with pytest.raises(BulkRejected) as caught:
        enter(world, rows)
    assert [(e.row, e.column, e.rule) for e in caught.value.errors] == [(51, "贷款本金", "RP-4")]
    assert (LoanProject.objects.count(), Borrower.objects.count(), AuditEvent.objects.count()) == (
        projects, borrowers, events)


def test_every_problem_of_a_row_is_listed_with_its_column(world):
    disbursed = shanghai_today() - timedelta(days=2)
    good = row(1)
    bad = row(2, **{"证件号码": "91440300MA5DEM0000", "贷款本金": "0", "到期日": disbursed.isoformat(),
                    "借据号": good["借据号"], "企业规模依据": ""})
    with pytest.raises(BulkRejected) as caught:
        enter(world, [good, bad])
    found = {(e.row, e.column, e.rule) for e in caught.value.errors}
    assert found == {
        (3, "证件号码", "INPUT"), (3, "贷款本金", "RP-4"), (3, "到期日", "RP-7"), (3, "借据号", "RP-21"),
        (3, "企业规模依据", "GU-11"),
    }, caught.value.errors
    assert not LoanProject.objects.filter(loan_no__startswith="JJ-UP-").exists()


def test_a_loan_number_already_entered_and_the_rp6_window_are_row_errors(world):
    enter(world, [row(1)])
    late = shanghai_today() - timedelta(days=400)
    with pytest.raises(BulkRejected) as caught:
        enter(world, [row(1), row(2, **{"借据日期": late.isoformat(), "到期日": (late + timedelta(days=900)).isoformat()})])
    assert [(e.row, e.column, e.rule) for e in caught.value.errors] == [(2, "借据号", "RP-21"), (3, "借据日期", "RP-6")]


# --- the background path ------------------------------------------------------------------


@pytest.fixture
def small_inline(settings, media_root, django_capture_on_commit_callbacks):
    """Files of more than 5 rows run in the background; the task is queued on commit, which the
    test's transaction never reaches, so the callbacks run when the request's block ends."""
    settings.BULK_IMPORT_INLINE_ROWS = 5
    return django_capture_on_commit_callbacks


def upload(client, world, rows, on_commit):
    client.force_login(world.bank_user)
    with on_commit(execute=True):
        return client.post(reverse("riskpool:project-upload"), {"pool": world.pool.pk, "file": csv_file(rows)})


def test_a_large_file_runs_as_a_task_with_a_progress_and_result_page(client, world, small_inline):
    response = upload(client, world, [row(n) for n in range(1, 13)], small_inline)
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:run", args=[run.pk])
    # Celery runs eagerly in the tests: the task has entered the file by now.
    assert (run.state, run.saved, run.organisation, run.kind) == ("saved", 12, world.bank, "projects")
    assert not run.file  # a saved file is not kept; a rejected one is, to be entered again once confirmed
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 12
    status = client.get(reverse("imports:status", args=[run.pk])).json()
    assert status["finished"] and status["percent"] == 100 and status["done"] == 12 and status["saved"] == 12
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'id="import-saved"' in page.content


def test_a_running_upload_shows_its_progress_bar_polled_by_a_static_script(client, world, media_root):
    run = ImportRun.objects.create(kind="projects", organisation=world.bank, started_by=world.bank_user,
                                   target_id=world.pool.pk, file="imports/x.bin", file_name="big.csv",
                                   state="running", progress_total=100_000)
    client.force_login(world.bank_user)
    page = client.get(reverse("imports:run", args=[run.pk])).content.decode()
    assert 'id="import-progress"' in page and "js/import-progress.js" in page
    assert f'data-status-url="{reverse("imports:status", args=[run.pk])}"' in page
    status = client.get(reverse("imports:status", args=[run.pk])).json()
    assert (status["finished"], status["state"], status["total"]) == (False, "running", 100_000)


def test_a_rejected_large_file_lists_its_errors_and_gives_them_as_xlsx(client, world, small_inline):
    rows = [row(n) for n in range(1, 13)]
    rows[7]["贷款本金"] = "abc"
    upload(client, world, rows, small_inline)
    run = ImportRun.objects.get()
    assert run.state == "rejected" and run.saved == 0
    assert not LoanProject.objects.filter(loan_no__startswith="JJ-UP-").exists()
    page = client.get(reverse("imports:run", args=[run.pk]))
    assert b'id="import-error-table"' in page.content and b'id="import-errors-xlsx"' in page.content
    sheet = load_workbook(io.BytesIO(client.get(reverse("imports:errors", args=[run.pk])).content)).worksheets[0]
    lines = list(sheet.iter_rows(values_only=True))
    assert len(lines) == 2 and lines[1][:3] == (9, "贷款本金", "INPUT")


def test_a_large_file_renaming_a_borrower_is_entered_again_once_confirmed(client, world, small_inline):
    first = row(1)
    enter(world, [first])
    rows = [row(n) for n in range(2, 10)] + [row(10, **{"证件号码": first["证件号码"], "借款人名称": "改名后的企业"})]
    upload(client, world, rows, small_inline)
    rejected = ImportRun.objects.get()
    assert rejected.state == "rejected" and rejected.errors[0]["rename"]["new"] == "改名后的企业"
    page = client.get(reverse("imports:run", args=[rejected.pk]))
    assert b'id="import-confirm"' in page.content
    key = rejected.errors[0]["rename"]["key"]
    with small_inline(execute=True):
        response = client.post(reverse("imports:confirm", args=[rejected.pk]), {"renames": [key], "confirm_renames": "on"})
    again = ImportRun.objects.exclude(pk=rejected.pk).get()
    assert response["Location"] == reverse("imports:run", args=[again.pk])
    assert again.state == "saved" and again.saved == 9
    assert Borrower.objects.get(owner=world.bank, id_number=first["证件号码"]).name == "改名后的企业"


def test_another_organisations_upload_is_not_found(client, world, small_inline):
    upload(client, world, [row(n) for n in range(1, 8)], small_inline)
    run = ImportRun.objects.get()
    charlie = bank_user()
    client.force_login(charlie)
    for name in ("run", "status", "errors"):
        assert client.get(reverse(f"imports:{name}", args=[run.pk])).status_code == 404, name
    assert client.post(reverse("imports:confirm", args=[run.pk]), {"confirm_renames": "on"}).status_code == 404
    assert ImportRun.objects.count() == 1


def test_rp5_a_foreign_currency_rate_is_read_once_per_day_not_per_row(world, own_cache):
    from decimal import Decimal

    from core.models import ExchangeRate

    disbursed = shanghai_today() - timedelta(days=2)
    ExchangeRate.objects.create(currency="USD", on=disbursed, kind=ExchangeRate.Kind.CENTRAL_PARITY,
                                rate=Decimal("7.1000"), unit=1)
    queries_for(world, 1, 1000)
    usd = {"币种": "USD", "贷款本金": "100000.00"}

    def enter_usd(numbers):
        content = csv_file([row(n, **usd) for n in numbers], headers=[*HEADERS, "币种"]).read()
        imports.import_content(user=world.bank_user, pool=world.pool, content=content)

    with CaptureQueriesContext(connection) as few:
        enter_usd(range(1, 4))
    with CaptureQueriesContext(connection) as many:
        enter_usd(range(10, 40))
    assert len(few.captured_queries) == len(many.captured_queries)
    assert set(LoanProject.objects.filter(currency="USD").values_list("principal_yuan", flat=True)) == {
        Decimal("710000.00")}


def test_the_parse_time_limit_counts_the_reading_not_the_checks_and_writes(world, monkeypatch):
    from core import upload_limits

    deadline = upload_limits.Deadline(1)
    clock = [0.0]
    monkeypatch.setattr(upload_limits.time, "monotonic", lambda: clock[0])
    deadline.ends = 1.0
    with deadline.paused():
        clock[0] = 50.0  # a long check and write of a chunk
    deadline.check()  # not refused: the 50 s were not reading
    clock[0] = 52.0
    with pytest.raises(upload_limits.ImportRefused):
        deadline.check()
