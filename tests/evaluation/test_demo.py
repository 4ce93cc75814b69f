"""The evaluation demo: a complete previous year with results and a current year in progress;
a second run creates nothing (no rows, no audit events, no job runs)."""
from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from core.models import AuditEvent, JobRun
from evaluation.models import EvaluationYear, ExemptionCase, RegionResult, Result, Submission

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    counts = {model._meta.label: model._default_manager.count()
              for model in apps.get_app_config("evaluation").get_models()}
    counts["audit"] = AuditEvent.objects.filter(object_type__startswith="evaluation.").count()
    counts["job audit"] = AuditEvent.objects.filter(summary__regex=r'JB-(8|9|10)[ "]').count()
    counts["job runs"] = JobRun.objects.filter(job__in=["JB-8", "JB-9", "JB-10"]).count()
    return counts


def test_evaluation_demo_is_complete_and_idempotent():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    done = EvaluationYear.objects.get(year=2024)
    assert done.stage == EvaluationYear.Stage.PUBLISHED
    assert Result.objects.filter(year=done).count() == 3 and RegionResult.objects.filter(year=done).exists()
    states = set(Submission.objects.filter(year__year=2025).values_list("state", flat=True))
    assert states == {"draft", "county_review", "city_review"}
    assert Submission.objects.filter(year__year=2024, history__action="return").exists()
    assert ExemptionCase.objects.filter(state="decided").exists()
    call_command("seed_demo", stdout=StringIO())
    assert _counts() == first
