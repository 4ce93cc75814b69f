"""Issue 12: the guarantee upload is set-based, as the loan-project upload. Its queries do not
grow with the rows, one bad row saves nothing (even after earlier chunks were written), every
problem of a row is listed with its column, 单户担保金额 (GU-5) counts the file's earlier rows,
a large file runs as a Celery task, and another firm cannot see its page."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.bulk import BulkRejected
from core.models import AuditEvent, ImportRun
from guarantees import imports
from guarantees.models import Borrower, Guarantee
from tests.factories import AgreementFactory, firm_user, make_credit_code
from tests.guarantees.test_imports import csv_bytes, row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return firm_user()


@pytest.fixture
def agreement(alice):
    return AgreementFactory(firm=alice.organisation, code="YD-2024-01")


def enter(alice, rows):
    return imports.import_content(user=alice, firm=alice.organisation, content=csv_bytes(rows, "utf-8"))


@pytest.fixture
def own_cache(settings):
    """A cache of the test's own: another test run sharing the Redis database cannot empty it
    between the two uploads compared (the working-day calendar is read through it)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def queries_for(alice, count: int, start: int) -> int:
    rows = [row(n) for n in range(start, start + count)]
    with CaptureQueriesContext(connection) as ctx:
        assert enter(alice, rows) == count
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_rows(alice, agreement, own_cache):
    queries_for(alice, 1, 1000)  # the first upload fills the caches
    assert queries_for(alice, 10, 1) == queries_for(alice, 200, 100)
    assert Guarantee.objects.filter(firm=alice.organisation).count() == 211
    assert AuditEvent.objects.filter(object_type="guarantees.guarantee", action="create").count() == 211


def test_one_bad_row_after_written_chunks_saves_nothing(alice, agreement, settings):
    settings.BULK_IMPORT_CHUNK_ROWS = 20
    rows = [row(n) for n in range(1, 61)]
    rows[45]["担保金额(元)"] = "2000000"  # more than the loan principal
    with pytest.raises(BulkRejected) as caught:
        enter(alice, rows)
    assert [(e.row, e.column) for e in caught.value.errors] == [(47, "担保金额(元)")]
    assert not Guarantee.objects.exists() and not Borrower.objects.filter(owner=alice.organisation).exists()
    assert not AuditEvent.objects.filter(organisation=alice.organisation).exists()


def test_every_problem_of_a_row_is_listed_with_its_column(alice, agreement):
    good = row(1)
    bad = row(2, **{"担保合同编号": good["担保合同编号"], "担保金额(元)": "0", "证件号码": "91440300MA5DEM0000",
                    "担保到期日": "2024-01-01", "用途": "政府债券"})
    with pytest.raises(BulkRejected) as caught:
        enter(alice, [good, bad])
    found = {(e.row, e.column, e.rule) for e in caught.value.errors}
    assert found == {
        (3, "担保合同编号", "INPUT"), (3, "担保金额(元)", "INPUT"), (3, "证件号码", "INPUT"), (3, "担保到期日", "INPUT"),
        (3, "用途", "GU-12"),
    }, caught.value.errors
    assert not Guarantee.objects.exists()


def test_an_unknown_agreement_is_a_row_error(alice, agreement):
    with pytest.raises(BulkRejected) as caught:
        enter(alice, [row(1, **{"合作协议编号": "NO-SUCH"})])
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "合作协议编号")]


def test_gu5_the_single_borrower_amount_counts_the_files_earlier_guarantees(alice, agreement):
    code = make_credit_code()
    same = {"证件号码": code, "融资人名称": "同一企业有限公司"}
    enter(alice, [row(1, **same)])
    enter(alice, [row(2, **same), row(3, **same)])
    amounts = list(Guarantee.objects.order_by("contract_no").values_list("single_borrower_amount", flat=True))
    assert amounts == [Decimal("800000.50"), Decimal("1600001.00"), Decimal("2400001.50")]


@pytest.fixture
def small_inline(settings, django_capture_on_commit_callbacks):
    """Files of more than 5 rows run in the background."""
    settings.BULK_IMPORT_INLINE_ROWS = 5
    return django_capture_on_commit_callbacks


def test_a_large_file_runs_as_a_task_and_another_firm_cannot_see_it(client, alice, agreement, small_inline):
    client.force_login(alice)
    with small_inline(execute=True):
        response = client.post(reverse("guarantees:guarantee-import"),
                               {"file": upload("g.csv", csv_bytes([row(n) for n in range(1, 9)], "utf-8"))})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("imports:run", args=[run.pk])
    assert (run.state, run.saved, run.kind, run.organisation) == ("saved", 8, "guarantees", alice.organisation)
    assert Guarantee.objects.filter(firm=alice.organisation).count() == 8
    page = client.get(response["Location"])
    assert page.status_code == 200 and reverse("guarantees:guarantee-list").encode() in page.content
    client.force_login(firm_user())
    for name in ("run", "status", "errors"):
        assert client.get(reverse(f"imports:{name}", args=[run.pk])).status_code == 404, name


def test_a_rejected_runs_cell_errors_read_in_each_readers_language(client, alice, agreement, small_inline):
    """Issue 13.1: a cell that cannot be read is stored as its msgid and values, like the rules'
    errors, so the run's page reads in the language of whoever opens it, not the uploader's."""
    from django.utils import translation

    from core.i18n_text import render

    rows = [row(n) for n in range(1, 9)]
    rows[2]["营业收入(元)"] = "abc"
    rows[4]["融资人名称"] = ""
    client.force_login(alice)
    with translation.override("en"), small_inline(execute=True):
        client.post(reverse("guarantees:guarantee-import"), {"file": upload("g.csv", csv_bytes(rows, "utf-8"))},
                    HTTP_ACCEPT_LANGUAGE="en")
    run = ImportRun.objects.get()
    assert run.state == ImportRun.State.REJECTED and Guarantee.objects.count() == 0
    messages = {(e["row"], e["column"]): e["message"] for e in run.errors}
    assert messages[(4, "营业收入(元)")] == {"code": "“%(value)s” is not a number.", "params": {"value": "abc"}}
    assert messages[(6, "融资人名称")] == {"code": "This cell is required."}
    with translation.override("zh-hans"):
        assert render(messages[(4, "营业收入(元)")]) == "“abc”不是数字。"
    with translation.override("en"):
        assert render(messages[(6, "融资人名称")]) == "This cell is required."
