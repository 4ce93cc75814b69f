"""bench_guarantees on a tiny data set: it generates through core.bench's COPY helpers, runs
JB-5 before the dashboard (so the closed quarter is read from snapshots), times the closed and
the open quarter, the lists and pages, and removes its rows again."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from guarantees.management.commands.bench_guarantees import Command
from guarantees.models import FirmIndicatorSnapshot, Guarantee

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_bench_guarantees_runs_and_cleans_up():
    out = io.StringIO()
    command = Command(stdout=out)
    call_command(command, guarantees=400, firms=3, banks=2, repeat=1, keep=True)
    text = out.getvalue()
    keys = [r.key for r in command.results]
    assert keys[0] == "e" and {"a", "a2", "c", "f1", "f3", "f4"} <= set(keys)
    closed = next(r for r in command.results if r.key == "a")
    assert closed.measurement.query_count <= 8  # the snapshots, no sum over the guarantees
    assert FirmIndicatorSnapshot.objects.filter(period=str(command.data.quarter)).count() == 3
    assert Guarantee.objects.count() == 400 and "Kept the benchmark data" in text
    command._remove()
    assert Guarantee.objects.count() == 0
