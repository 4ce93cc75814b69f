"""The bulk-upload benchmarks are parts of ``manage.py bench``: each app's ``bulk_import`` step
runs its ``bench_import`` (ours on csv and xlsx, COPY, django-import-export) and puts its
figures in the table. Run on 20 rows, with the importer in this process: the child process of
the real run would open the development database, not the test's."""
from __future__ import annotations

from io import StringIO

import pytest

from core import bench_import, bench_parts
from core.bench_parts import BenchRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_process(monkeypatch):
    monkeypatch.setattr(bench_import, "time_in_child", bench_import.run_importer)


@pytest.mark.parametrize(("part", "what"), [("guarantees", "guarantee import"), ("riskpool", "loan-project import")])
def test_the_import_step_times_ours_copy_and_import_export(in_process, part, what):
    bench_parts.discover()
    step = next(s for s in bench_parts.steps("data") if s.name == f"{part}.bench_parts.bulk_import")
    out = StringIO()
    rows = step.func(BenchRun(options={"import_rows": 20}, stdout=out, stderr=StringIO()))
    assert [r.what.split(" [")[0] for r in rows] == [
        f"{what}, 20 rows, csv", f"{what}, 20 rows, xlsx",
        f"{what} against django-import-export (slower of csv and xlsx)", f"{what}, csv, peak memory of the process",
        f"{what}, xlsx, peak memory of the process"]
    csv_row, xlsx_row, anchor_row, memory_row, xlsx_memory_row = rows
    assert "MB]" in csv_row.what and "MB]" in xlsx_row.what  # each kind's peak memory in its row
    assert csv_row.anchor == "COPY of the same rows" and csv_row.target == "≤ 5× COPY"
    assert csv_row.ratio == pytest.approx(csv_row.figure / csv_row.anchor_figure)
    assert anchor_row.anchor == "django-import-export, 20 rows scaled" and anchor_row.target == "≥ 10× faster"
    assert anchor_row.figure == max(csv_row.figure, xlsx_row.figure)
    assert anchor_row.ratio == pytest.approx(anchor_row.anchor_figure / anchor_row.figure)
    assert memory_row.unit == "MB" and memory_row.figure > 0 and xlsx_memory_row.figure > 0
    assert f"{what}, 20 rows" in out.getvalue()  # the import's own report as well


def test_both_apps_offer_the_row_count():
    bench_parts.discover()
    assert dict(bench_parts.options())["--import-rows"]["default"] == 100_000
