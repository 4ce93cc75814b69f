"""EV-5 lateness judged from the day each step was actually taken (submitted_at, the forwarding
and acceptance times), so a late filing stays late after it moves on: the pure rule at its
deadline boundaries, the day in Shanghai at midnight, the services recording each step's first
time, and the year page and the home panel showing it."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core.jobs import job_run
from core.models import JobRun
from evaluation import home, rules, selectors, services
from evaluation.models import EvaluationYear, Submission
from evaluation.rules import State
from tests.evaluation.factories import TARGETS, accept, build_world, file_submission, pdf

YEAR = 2024
DATES = rules.chain_dates(YEAR)  # firm 2025-03-31, county 04-15, city 04-30, province 05-31
FULL = rules.chain_steps(has_county=True, has_city=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def lateness(state, taken, today, steps=FULL):
    return {s.state: s for s in rules.chain_lateness(steps=steps, dates=DATES, taken=taken, state=state, today=today)}


# --- the pure rule --------------------------------------------------------------------------


def test_ev5_deadlines_of_2024():
    assert (DATES.firm, DATES.county, DATES.city, DATES.province) == (
        date(2025, 3, 31), date(2025, 4, 15), date(2025, 4, 30), date(2025, 5, 31))


def test_ev5_filing_on_the_deadline_day_is_in_time():
    got = lateness(State.COUNTY, {State.DRAFT: date(2025, 3, 31)}, today=date(2025, 4, 2))
    assert not got[State.DRAFT].late and got[State.DRAFT].days_late == 0


def test_ev5_filing_the_day_after_is_late_and_stays_late_after_it_moves_on():
    taken = {State.DRAFT: date(2025, 4, 1), State.COUNTY: date(2025, 4, 3), State.CITY: date(2025, 4, 20),
             State.PROVINCE: date(2025, 5, 2)}
    got = lateness(State.ACCEPTED, taken, today=date(2025, 12, 1))
    assert got[State.DRAFT].late and got[State.DRAFT].days_late == 1 and got[State.DRAFT].taken_on == date(2025, 4, 1)
    assert [s for s, step in got.items() if step.late] == [State.DRAFT]


def test_ev5_each_reviewer_step_at_its_boundary():
    on_time = {State.DRAFT: date(2025, 3, 1), State.COUNTY: date(2025, 4, 15), State.CITY: date(2025, 4, 30),
               State.PROVINCE: date(2025, 5, 31)}
    assert not any(s.late for s in lateness(State.ACCEPTED, on_time, today=date(2025, 12, 1)).values())
    day_late = {State.DRAFT: date(2025, 3, 1), State.COUNTY: date(2025, 4, 16), State.CITY: date(2025, 5, 1),
                State.PROVINCE: date(2025, 6, 1)}
    got = lateness(State.ACCEPTED, day_late, today=date(2025, 12, 1))
    assert {s: (g.late, g.days_late) for s, g in got.items()} == {
        State.DRAFT: (False, 0), State.COUNTY: (True, 1), State.CITY: (True, 1), State.PROVINCE: (True, 1)}


def test_ev5_the_step_held_now_is_late_only_after_its_deadline_day():
    taken = {State.DRAFT: date(2025, 3, 20)}
    assert not lateness(State.COUNTY, taken, today=date(2025, 4, 15))[State.COUNTY].late
    held = lateness(State.COUNTY, taken, today=date(2025, 4, 16))[State.COUNTY]
    assert held.late and held.taken_on is None and held.days_late == 1


def test_ev5_a_step_not_reached_yet_is_not_late_whoever_is_late_before_it():
    got = lateness(State.DRAFT, {}, today=date(2025, 6, 1))
    assert got[State.DRAFT].late and got[State.DRAFT].days_late == 62
    assert not any(got[s].late for s in (State.COUNTY, State.CITY, State.PROVINCE))


def test_ev5_filed_in_time_returned_and_held_past_the_deadline_is_late_again():
    got = lateness(State.DRAFT, {State.DRAFT: date(2025, 3, 20)}, today=date(2025, 4, 1))
    assert got[State.DRAFT].late and got[State.DRAFT].days_late == 1


def test_ev5_a_skipped_level_has_no_step():
    steps = rules.chain_steps(has_county=False, has_city=True)
    got = lateness(State.CITY, {State.DRAFT: date(2025, 3, 31)}, today=date(2025, 4, 20), steps=steps)
    assert set(got) == {State.DRAFT, State.CITY, State.PROVINCE} and not any(s.late for s in got.values())


# --- with the database ------------------------------------------------------------------------


@pytest.fixture
def world(db):
    w = build_world(YEAR)
    services.year_setup(user=w.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    return w


def _sub(world, user=None):
    return Submission.objects.get(firm=(user or world.firm_user).organisation)


@pytest.mark.parametrize(("moment", "late"), [
    (datetime(2025, 3, 31, 23, 59, 59, tzinfo=SHANGHAI), False),
    (datetime(2025, 4, 1, 0, 0, 0, tzinfo=SHANGHAI), True),  # 2025-03-31 16:00 UTC: already the 1st in Shanghai
])
def test_ev5_the_day_a_step_was_taken_is_the_day_in_shanghai(world, moment, late):
    sub = _sub(world)
    sub.state, sub.submitted_at = State.COUNTY, moment
    got = {s.state: s for s in selectors.submission_lateness(sub, today=date(2025, 4, 2), dates=DATES)}
    assert got[State.DRAFT].late is late


def test_ev5_services_record_when_each_step_was_first_taken(world):
    sub = file_submission(world, _sub(world))
    first = sub.submitted_at
    assert first is not None and sub.county_forwarded_at is None
    sub = services.submission_return(user=world.county_user, submission=sub, reason="缺少盖章")
    sub = file_submission(world, sub)
    assert sub.submitted_at == first  # the filing that counts is the first
    services.material_upload(user=world.county_user, submission=sub, kind="compliance_report", upload=pdf())
    sub = services.submission_forward(user=world.county_user, submission=sub, opinion="同意")
    assert sub.county_forwarded_at is not None and sub.city_forwarded_at is None and sub.accepted_at is None
    accepted = accept(world, world.city_firm_user)
    assert accepted.submitted_at and accepted.city_forwarded_at and accepted.accepted_at
    assert accepted.county_forwarded_at is None  # a city firm has no county step


def test_ev5_year_page_lists_an_accepted_submission_whose_filing_was_late(client, world):
    late = accept(world, world.firm_user)  # every step taken today, long after the 2024 deadlines
    in_time = accept(world, world.other_firm_user)
    Submission.objects.filter(pk=in_time.pk).update(
        submitted_at=datetime(2025, 3, 31, 12, tzinfo=SHANGHAI), county_forwarded_at=datetime(2025, 4, 15, 12, tzinfo=SHANGHAI),
        city_forwarded_at=datetime(2025, 4, 30, 12, tzinfo=SHANGHAI), accepted_at=datetime(2025, 5, 31, 12, tzinfo=SHANGHAI))
    client.force_login(world.authority)
    response = client.get(reverse("evaluation:year", args=[YEAR]))
    assert response.status_code == 200
    late_rows = {s.pk: [step["step"].state for step in s.late_steps] for s in response.context["late"]}
    assert late.pk in late_rows and State.DRAFT in late_rows[late.pk]
    assert in_time.pk not in late_rows
    section = response.content.decode().split('id="late"')[1].split("</section>")[0]
    assert "闽侯担保" in section and 'data-step="draft"' in section and "连江担保" not in section


def test_ev5_home_panel_counts_late_steps_of_submissions_that_moved_on(client, world):
    accept(world, world.firm_user)
    year = EvaluationYear.objects.get(year=YEAR)
    panel = home.evaluation_panel(world.authority, date(2026, 12, 1))
    steps = {s["state"]: s for s in panel["steps"]}
    # The accepted one was filed and reviewed late at every step; the two still with their firms
    # are late at the filing and have not reached the reviewers.
    assert steps[State.ACCEPTED]["n"] == 1
    assert {s: steps[s]["late"] for s in (State.DRAFT, State.COUNTY, State.CITY, State.PROVINCE)} == {
        State.DRAFT: 3, State.COUNTY: 1, State.CITY: 1, State.PROVINCE: 1}
    assert type(steps[State.DRAFT]["late"]) is int  # a count, not a flag of the state's deadline
    assert selectors.late_counts(user=world.authority, year=year, today=date(2026, 12, 1))[State.DRAFT] == 3
    client.force_login(world.authority)
    page = client.get("/").content.decode()
    assert 'id="evaluation-progress"' in page and "late-count" in page
