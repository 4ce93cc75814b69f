"""riskpool_generate (a synthetic Scheme S data set written through COPY) makes data the real
services accept: counts as asked, borrowers owned by the lending bank, a ledger whose sum is the
pool's balance (RP-1), claims' paid and returned amounts equal to the ledger, RP-20's bank-year
figures equal to a recount; and bench_riskpool and make bench's JB-7 scaling row run on it."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum

from core.bench_parts import BenchRun
from core.periods import add_months
from guarantees.models import Borrower
from riskpool import rules
from riskpool.bench_parts import jb7_scaling
from riskpool.management.commands.riskpool_generate import consistency_problems, generated_pool
from riskpool.models import Claim, ClaimStep, LedgerEntry, LoanProject, Member, Pool, RecoveryReport

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def generate(**options) -> str:
    out = io.StringIO()
    call_command("riskpool_generate", projects=2000, banks=8, seed=7, stdout=out, **options)
    return out.getvalue()


def test_generator_writes_a_consistent_data_set_and_bench_riskpool_runs(tmp_path):
    generate()
    pool = generated_pool()
    assert pool is not None
    projects = LoanProject.objects.filter(pool=pool)
    assert projects.count() == 2000
    assert Member.objects.filter(pool=pool).count() == 8
    assert projects.values("bank_id").distinct().count() == 8
    assert Borrower.objects.filter(owner__in=Member.objects.filter(pool=pool).values("organisation")).count() == \
        projects.values("borrower_id").distinct().count()
    assert consistency_problems(pool) == []
    ledger_sum = LedgerEntry.objects.filter(pool=pool).aggregate(s=Sum("amount"))["s"]
    assert pool.balance == ledger_sum > 0
    claims = Claim.objects.filter(project__pool=pool)
    assert claims.exists() and claims.filter(paid_on__isnull=False).exists()
    assert claims.filter(state="submitted").exists()
    for claim in claims.select_related("project"):
        steps = list(ClaimStep.objects.filter(claim=claim).order_by("on", "id").values_list("old", "new"))
        assert steps[0] == ("", "submitted") and steps[-1][1] == claim.state
        for old, new in steps[1:]:
            rules.check_transition(old, new)
        assert claim.project.is_npl or claim.state == "upgraded"
        assert claim.submitted_on <= add_months(claim.npl_on, 3)  # RP-14
        if claim.state in ("in_compensation_library", "recovering"):
            assert claim.project.library == "compensation"
    for report in RecoveryReport.objects.filter(claim__project__pool=pool).select_related("claim")[:50]:
        assert report.return_amount <= report.claim.paid_amount
    for member in Member.objects.filter(pool=pool):  # RP-15 figures through the real service
        assert member.npl_checked_at is not None and member.entered_principal > 0

    with pytest.raises(CommandError):
        generate()  # there already
    out = generate(replace=True)
    assert "Removed" in out and LoanProject.objects.filter(pool=generated_pool()).count() == 2000

    pools = Pool.objects.count()
    path = tmp_path / "bench.json"
    bench_out = io.StringIO()
    call_command("bench_riskpool", repeat=1, page_repeat=1, json=str(path), stdout=bench_out)
    text = bench_out.getvalue()
    assert "JB-7 annual bank evaluation" in text and "JB-15 target" in text
    figures = json.loads(path.read_text())
    assert {r["key"] for r in figures["results"]} == {"jb7", "jb5", "jb4", "jb6", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"}
    # the jobs were rolled back: nothing of theirs was kept
    assert pool.bank_evaluations.count() == 0 and not pool.quarter_snapshots.exists()
    assert consistency_problems(generated_pool()) == []

    # make bench's JB-7 scaling row: a tenth of the loans in a pool of their own, all rolled back
    small, scaling = jb7_scaling(BenchRun(options={}, stdout=io.StringIO(), stderr=io.StringIO()))
    assert "on a tenth of the data" in small.what and small.figure > 0 and small.anchor_figure > 0
    assert scaling.unit == "×" and "the data): time ratio" in scaling.what and scaling.figure > 0
    assert Pool.objects.count() == pools and generated_pool().scheme == Pool.Scheme.S
    assert consistency_problems(generated_pool()) == []
