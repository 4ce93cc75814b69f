"""``manage.py bench`` lives in core and imports no app: the apps' bench_parts.py register their
steps, options and big tables, and the command prints one table in section order, then runs the
parts' removals, also when a step fails."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core import bench_parts
from core.bench_parts import Row

pytestmark = pytest.mark.django_db


def test_the_apps_register_their_parts():
    bench_parts.discover()
    names = {section: [s.name for s in bench_parts.steps(section)] for section in bench_parts.SECTIONS}
    assert names["pages"] == ["guarantees.bench_parts.pages", "riskpool.bench_parts.pages"]
    assert names["api"] == ["riskpool.bench_parts.api"]
    # the pool's jobs before the snapshot, as the table has always listed them
    assert names["jobs"] == ["riskpool.bench_parts.jobs", "riskpool.bench_parts.jb7_scaling",
                             "guarantees.bench_parts.snapshot_job"]
    assert names["simulation"] == ["riskpool.bench_parts.simulation"]
    assert names["data"] == ["guarantees.bench_parts.generation", "guarantees.bench_parts.bulk_import",
                             "riskpool.bench_parts.bulk_import"]
    assert {"--guarantees", "--projects"} <= {name for name, _kwargs in bench_parts.options()}
    assert set(bench_parts.big_tables()) == {"guarantees_guarantee", "riskpool_loanproject"}
    bench_parts.discover()  # a second discovery registers nothing twice
    assert len(bench_parts.steps("pages")) == 2


@pytest.fixture
def fake_parts(monkeypatch):
    """Only fake parts, so the command runs in a moment on an empty database."""
    monkeypatch.setattr(bench_parts, "_steps", {})
    monkeypatch.setattr(bench_parts, "_options", {})
    monkeypatch.setattr(bench_parts, "_big_tables", {})
    monkeypatch.setattr(bench_parts, "discover", lambda: None)
    monkeypatch.setattr("core.management.commands.bench.time.sleep", lambda seconds: None)
    done = []
    bench_parts.option("--things", type=int, default=5)
    bench_parts.big_table("guarantees_guarantee")

    @bench_parts.step("jobs", order=1)
    def job(run):
        return [Row("a job", 30.0, "ms", "≤ 1.5× anchor", "SQL: by hand", 20.0, 1.5)]

    @bench_parts.step("pages", order=2)
    def second_page(run):
        return [Row("second page", 12.25, "ms", "≤ 100")]

    @bench_parts.step("pages", order=1)
    def first_page(run):
        run.on_finish(lambda: done.append("first"))
        run.state["things"] = run.options["things"]
        return [Row(f"first page of {run.options['things']} things", 1234.5, "ms", "≤ 150")]

    return done


def test_one_table_in_section_then_step_order_and_the_removals_after_it(fake_parts):
    out = StringIO()
    call_command("bench", things=7, stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("first page of 7 things"))
    assert lines[first + 1].startswith("second page") and lines[first + 2].startswith("a job")
    assert "1,234.5 ms" in lines[first] and "20.0 ms" in lines[first + 2] and "1.50×" in lines[first + 2]
    assert "Indexes of guarantees_guarantee that no benchmarked query used:" in text
    assert fake_parts == ["first"]


def test_a_failing_step_still_removes_what_the_earlier_ones_left(fake_parts):
    @bench_parts.step("simulation", order=1)
    def broken(run):
        raise RuntimeError("out of disk")

    with pytest.raises(RuntimeError, match="out of disk"):
        call_command("bench", stdout=StringIO())
    assert fake_parts == ["first"]
