"""Issue 13 point 2: a submission's history shows the step and its states by their labels in the
reader's language (EV-5), never the stored codes ("submit: draft → county_review")."""
from __future__ import annotations

import pytest
from django.urls import reverse

from core.jobs import job_run
from core.models import JobRun
from evaluation import rules, services
from evaluation.models import Submission
from tests.evaluation.factories import TARGETS, build_world, file_submission

pytestmark = pytest.mark.django_db
YEAR = 2024


@pytest.mark.parametrize(("lang", "line"), [
    ("en", "Submitted: With the firm → County review"),
    ("zh-hans", "提交: 担保机构办理中 → 县级审核"),
])
def test_ev5_history_in_labels_not_codes(client, lang, line):
    world = build_world(YEAR)
    services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    sub = file_submission(world, Submission.objects.get(firm=world.firm_user.organisation))
    assert sub.state == rules.State.COUNTY
    client.force_login(world.firm_user)
    html = client.get(reverse("evaluation:submission", args=[sub.pk]), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert line in html
    assert f"submit: {rules.State.DRAFT} →" not in html


@pytest.mark.parametrize(("lang", "label"), [("en", "Net assets at year end"), ("zh-hans", "年末净资产")])
def test_ev3_flagged_figures_shown_by_label_on_the_year_page(client, lang, label):
    world = build_world(YEAR)
    services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    sub = Submission.objects.get(firm=world.firm_user.organisation)
    sub = services.submission_declare(user=world.firm_user, submission=sub,
                                      declared={"guarantee_balance": "3030000.00", "net_assets": "1010001.00"})
    assert sub.flagged == ["net_assets"]
    client.force_login(world.authority)
    html = client.get(reverse("evaluation:year", args=[YEAR]), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert label in html
    assert ">net_assets<" not in html
