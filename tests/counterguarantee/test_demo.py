"""The counter-guarantee demo: plans that pass, warn and fail, after-care, and a second run that
creates nothing."""
from __future__ import annotations

import pytest

from counterguarantee.models import Measure, Plan

pytestmark = pytest.mark.django_db


def test_demo_has_passing_warning_and_failing_plans_and_is_idempotent():
    from core import demo as core_demo
    from core.models import Organisation, User
    from counterguarantee.demo import build_counterguarantee_demo

    core_demo.build_demo()
    plans = list(Plan.objects.all())
    outcomes = {(r["rule"], r["outcome"]) for p in plans for r in p.last_check["results"]}
    assert any(p.last_check["passed"] for p in plans)
    assert ("CG-1", "warning") in outcomes
    assert ("CG-7", "fail") in outcomes and ("CG-9", "fail") in outcomes
    assert Plan.objects.filter(approval_passed=False).exists()
    assert Plan.objects.filter(status=Plan.Status.DRAFT).exists()
    assert Plan.objects.filter(status=Plan.Status.RELEASED).exists()
    assert Measure.objects.filter(status=Measure.Status.ENFORCED, limitation_due_on__isnull=False).exists()
    # Issue 13.1: the demo's notes are kept as msgids and read in each viewer's language.
    from django.utils import translation

    from core.i18n_text import render

    note = Plan.objects.filter(approval_passed=False).exclude(approval_note="").first().approval_note
    with translation.override("en"):
        assert render(note).startswith("Resolves existing risk")
    with translation.override("zh-hans"):
        assert render(note) == "化解存量风险，经评审会同意超额抵押。"

    count = Plan.objects.count()
    orgs = {"firm_dxal": Organisation.objects.get(name="大兴安岭地区融资担保有限责任公司"),
            "firm_huma": Organisation.objects.get(name="呼玛县融资担保有限公司"),
            "firm_binxian": Organisation.objects.get(name="宾县融资担保有限公司")}
    users = {u.username: u for u in User.objects.filter(username__in=[
        "firm_operator", "firm_operator_huma", "firm_operator_binxian", "authority_admin"])}
    result = build_counterguarantee_demo(orgs, users)
    assert result.created_plans == 0 and Plan.objects.count() == count
    assert result.logins
