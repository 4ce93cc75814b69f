"""Issue 13 point 9: no evaluation reminder for a year already accepted (JB-8, EV-5, EV-9)."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from evaluation import selectors, services
from evaluation.models import EvaluationYear, Reminder, Submission
from tests.evaluation.factories import TARGETS, accept, build_world

pytestmark = pytest.mark.django_db
YEAR = 2024


@pytest.fixture
def world():
    w = build_world(YEAR)
    services.year_setup(user=w.authority, year=YEAR, targets=TARGETS)
    services.year_open(year=YEAR, actor="test")
    return w


def test_jb8_ev5_reminder_leaves_the_home_page_once_the_year_is_accepted(client, world):
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 3, 1)) == 3
    client.force_login(world.firm_user)
    html = client.get(reverse("evaluation:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="reminders"' in html and "EV-5" in html
    accept(world, world.firm_user)
    html = client.get(reverse("evaluation:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="reminders"' not in html
    # The second stage reminds only the firms still holding their submission.
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 3, 20)) == 2
    assert not Reminder.objects.filter(organisation=world.firm_user.organisation, key__endswith=":second").exists()


def test_jb8_ev5_no_reminder_once_the_province_closed_the_year(world):
    EvaluationYear.objects.filter(year=YEAR).update(stage=EvaluationYear.Stage.REVIEW_CLOSED)
    assert Submission.objects.filter(year__year=YEAR, state="draft").exists()
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 3, 1)) == 0


def test_jb10_ev9_reminder_hidden_once_targets_are_set(world):
    EvaluationYear.objects.filter(year=YEAR).update(target_leverage=None)
    assert services.targets_reminder_send(year=YEAR) >= 1
    assert selectors.reminders_outstanding(user=world.authority)
    EvaluationYear.objects.filter(year=YEAR).update(
        target_leverage=TARGETS["leverage"], target_clients=TARGETS["clients"], target_amount=TARGETS["amount"])
    assert selectors.reminders_outstanding(user=world.authority) == []


def test_a_reminder_sent_by_the_job_reads_in_each_viewers_language(client, world):
    """Issue 13.1: the job writes the reminder once; each reader sees it in their language."""
    from django.utils import translation

    with translation.override("en"):
        services.firm_reminders_send(year=YEAR, on=date(2025, 3, 1))
    client.force_login(world.firm_user)
    english = client.get(reverse("evaluation:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(reverse("evaluation:home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"Your {YEAR} evaluation materials are due by" in english
    assert f"Your {YEAR} evaluation" not in chinese and "&quot;code&quot;" not in chinese and "EV-5" in chinese
