"""JB-5, counter-guarantee part: CG-14 on each firm's quarterly indicator snapshot."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from core.jobs import job_run
from core.models import JobRun
from counterguarantee import services
from guarantees.models import FirmIndicatorSnapshot
from tests.counterguarantee.factories import draft_plan, ensure_tables, example_guarantee, guarantor_data, mortgage_data

pytestmark = pytest.mark.django_db


def approve(guarantee, measures):
    plan, user = draft_plan(guarantee, measures=measures, credit_grounds=["CG-1.2"])
    services.plan_approve(user=user, plan=plan, on=guarantee.start)
    return plan


def test_jb5_cg14_credit_share_of_the_quarters_decided_plans_on_the_snapshot():
    ensure_tables()
    first = example_guarantee(start=date(2025, 1, 10))
    firm = first.firm
    approve(first, [guarantor_data()])  # credit business
    approve(example_guarantee(firm=firm, agreement=first.agreement, start=date(2025, 2, 1)), [guarantor_data()])
    approve(example_guarantee(firm=firm, agreement=first.agreement, start=date(2025, 3, 1)),
            [mortgage_data(start=date(2025, 3, 1))])
    draft_plan(example_guarantee(firm=firm, agreement=first.agreement, start=date(2025, 3, 2)))  # a draft: not counted
    approve(example_guarantee(firm=firm, agreement=first.agreement, start=date(2025, 4, 1)),
            [guarantor_data(start=date(2025, 4, 1))])  # next quarter
    run = job_run(job_id="JB-5", period="2025Q1", trigger=JobRun.Trigger.COMMAND)
    assert run.state == JobRun.State.SUCCEEDED and run.counts["credit_share_firms"] == 1
    snap = FirmIndicatorSnapshot.objects.get(firm=firm, period="2025Q1")
    assert (snap.planned_guarantees, snap.collateral_guarantees) == (3, 1)
    assert snap.credit_share == D("0.666667")
    job_run(job_id="JB-5", period="2025Q1", trigger=JobRun.Trigger.COMMAND)  # JB-12: the same again
    assert FirmIndicatorSnapshot.objects.get(firm=firm, period="2025Q1").credit_share == D("0.666667")
