"""EV-3 … EV-5: the submission workflow definition (evaluation.workflows) is the one place that
says who may take which step in which state, where it leads and by when; these tests pin it to
the spec's chain and to each role."""
from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import Conflict
from core.jobs import job_run
from core.models import JobRun
from evaluation import rules, services
from evaluation.models import EvaluationYear, Submission
from evaluation.workflows import SUBMISSION as FLOW
from tests.evaluation.factories import TARGETS, build_world, file_submission, pdf

YEAR = 2024
S = Submission.State


def test_ev5_every_state_has_a_label_in_workflow_order():
    assert list(S.values) == rules.chain_steps(has_county=True, has_city=True)
    for state in S:
        assert state.label and str(state.label) != state.value
        assert FLOW.label(state.value) == state.label


def test_ev5_transitions_are_the_spec_chain_with_skipped_levels_and_one_step_returns():
    """EV-5: forward to the next level the firm has (county, city, province, accepted) and
    return one step back; nothing else moves a submission."""
    forward, back = set(), set()
    for has_county in (True, False):
        for has_city in (True, False):
            steps = rules.chain_steps(has_county=has_county, has_city=has_city)
            forward |= set(pairwise(steps))
            back |= {(b, a) for a, b in pairwise(steps[:-1])}
    moves = {(t.source, t.target) for t in FLOW.transitions() if t.source != t.target}
    assert moves == forward | back
    by_step = {}
    for t in FLOW.transitions():
        by_step.setdefault(t.name, set()).add((t.source, t.target))
    assert by_step["submit"] == {p for p in forward if p[0] == S.DRAFT}
    assert by_step["accept"] == {(S.PROVINCE, S.ACCEPTED)}
    assert by_step["return"] == back
    assert FLOW.terminal_states() == frozenset({S.ACCEPTED})


@pytest.fixture
def opened(db):
    world = build_world(YEAR)
    services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    return world


def names(user, sub):
    return [a.name for a in FLOW.actions_for(user, sub)]


def test_ev5_actions_for_each_holder_along_the_chain(opened):
    w = opened
    sub = Submission.objects.get(firm=w.firm)
    assert names(w.firm_user, sub) == ["refresh", "declare", "upload", "sign", "submit"]
    for outsider in (w.other_firm_user, w.county_user, w.city_user, w.authority):
        assert names(outsider, sub) == []
    sub = file_submission(w, sub)
    assert names(w.county_user, sub) == ["upload", "forward", "return"]
    (forward,) = FLOW.actions_for(w.county_user, sub, names=["forward"])
    assert (forward.target, forward.url) == (S.CITY, f"/evaluation/submissions/{sub.pk}/forward/")
    for outsider in (w.firm_user, w.other_county_user, w.city_user, w.authority):
        assert names(outsider, sub) == []
    services.material_upload(user=w.county_user, submission=sub, kind="compliance_report", upload=pdf())
    sub = services.submission_forward(user=w.county_user, submission=sub, opinion="合规")
    assert names(w.city_user, sub) == ["upload", "forward", "return"]
    assert names(w.county_user, sub) == []
    services.material_upload(user=w.city_user, submission=sub, kind="spot_check", upload=pdf())
    sub = services.submission_forward(user=w.city_user, submission=sub, opinion="抽查无误")
    assert names(w.authority, sub) == ["accept", "return", "sample"]
    assert names(w.city_user, sub) == []
    sub = services.submission_forward(user=w.authority, submission=sub, opinion="")
    assert sub.state == S.ACCEPTED and names(w.authority, sub) == ["sample"]
    assert names(w.firm_user, sub) == []


def test_ev5_a_city_level_firm_files_straight_with_the_city(opened):
    w = opened
    sub = Submission.objects.get(firm=w.city_firm_user.organisation)
    (submit,) = FLOW.actions_for(w.city_firm_user, sub, names=["submit"])
    assert submit.target == S.CITY
    sub = file_submission(w, sub, w.city_firm_user)
    assert sub.state == S.CITY
    (back,) = FLOW.actions_for(w.city_user, sub, names=["return"])
    assert back.target == S.DRAFT


def test_ev5_a_closed_year_offers_no_chain_step_and_refuses_one(opened):
    w = opened
    sub = Submission.objects.get(firm=w.firm)
    EvaluationYear.objects.filter(year=YEAR).update(stage=EvaluationYear.Stage.REVIEW_CLOSED)
    sub = Submission.objects.get(pk=sub.pk)
    assert names(w.firm_user, sub) == []
    with pytest.raises(Conflict) as exc:
        FLOW.check(w.firm_user, sub, "submit")
    assert exc.value.rule == "EV-5"


def test_ev5_wrong_holder_is_refused_and_wrong_state_is_a_conflict(opened):
    w = opened
    sub = Submission.objects.get(firm=w.firm)
    with pytest.raises(PermissionDenied):
        FLOW.check(w.county_user, sub, "submit")
    with pytest.raises(Conflict) as exc:
        FLOW.check(w.county_user, sub, "forward")
    assert exc.value.rule == "EV-5"


def test_ev5_deadline_of_each_holders_step(opened):
    w = opened
    sub = Submission.objects.get(firm=w.firm)
    dates = rules.chain_dates(YEAR)
    expected = {S.DRAFT: dates.firm, S.COUNTY: dates.county, S.CITY: dates.city, S.PROVINCE: dates.province,
                S.ACCEPTED: None}
    for state, due in expected.items():
        sub.state = state
        assert FLOW.deadline(sub) == due, state
    assert dates.firm == date(YEAR + 1, 3, 31)


def test_ev5_history_text_reads_the_definitions_labels():
    assert FLOW.history_text("return", S.CITY, S.COUNTY) == "Returned: City review → County review"


def test_ev5_the_year_page_reads_the_years_deadlines_once_whatever_the_number_of_submissions(opened, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from core.models import Organisation
    from tests.factories import OrganisationFactory

    w = opened
    client.force_login(w.authority)
    url = reverse("evaluation:year", args=[YEAR])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    model = Submission.objects.get(firm=w.firm)
    for n in range(4):
        firm = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, region=w.county, name=f"新担保{n}")
        Submission.objects.create(year=model.year, firm=firm, county_org=model.county_org, city_org=model.city_org)
    assert queries() == before


def test_ev5_ev9_year_closes_with_targets_then_publishes_only_for_the_province(db):
    from evaluation.workflows import YEAR as YEAR_FLOW

    Y = EvaluationYear.Stage
    assert {(t.source, t.target) for t in YEAR_FLOW.transitions()} == {
        (Y.OPEN, Y.REVIEW_CLOSED), (Y.REVIEW_CLOSED, Y.PUBLISHED), (Y.PUBLISHED, Y.PUBLISHED)}
    world = build_world(YEAR)
    row = EvaluationYear.objects.create(year=YEAR)
    assert YEAR_FLOW.actions_for(world.authority, row) == []  # no targets yet
    with pytest.raises(Conflict) as exc:
        YEAR_FLOW.check(world.authority, row, "close")
    assert exc.value.rule == "EV-9"
    row = services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    assert [a.name for a in YEAR_FLOW.actions_for(world.authority, row)] == ["close"]
    for user in (world.firm_user, world.county_user, world.city_user):
        assert YEAR_FLOW.actions_for(user, row) == []
    row = services.review_close(user=world.authority, year=row)
    (publish,) = YEAR_FLOW.actions_for(world.authority, row)
    assert (publish.name, publish.url) == ("publish", f"/evaluation/years/{YEAR}/publish/")
    with pytest.raises(Conflict, match="already closed"):
        services.review_close(user=world.authority, year=row)


def test_ev14_case_workflow_findings_confirm_appeal_per_role(db):
    from evaluation.models import ExemptionCase
    from evaluation.workflows import CASE
    from tests.evaluation.factories import compensated_guarantee

    C = ExemptionCase.State
    assert {(t.source, t.target) for t in CASE.transitions() if t.source != t.target} == {
        (C.OPEN, C.DECIDED), (C.APPEALED, C.CLOSED), (C.DECIDED, C.APPEALED)}
    assert CASE.terminal_states() == frozenset({C.CLOSED})
    w = build_world(YEAR, with_business=False)
    case = services.case_open(user=w.firm_user, guarantee=compensated_guarantee(w.firm), staff="张三",
                              grounds=["EV-12.6"])

    def names(user):
        return [a.name for a in CASE.actions_for(user, ExemptionCase.objects.get(pk=case.pk))]

    assert names(w.county_user) == ["findings"]  # nothing to confirm yet
    assert names(w.firm_user) == [] and names(w.other_county_user) == []
    services.case_findings_record(user=w.county_user, case=case, grounds=["EV-12.6"], staff_at_fault=True)
    assert names(w.county_user) == ["findings", "confirm"]
    assert names(w.city_user) == ["findings"]  # only the reviewer who recorded them confirms
    with pytest.raises(PermissionDenied):
        services.case_confirm(user=w.city_user, case=case)
    services.case_confirm(user=w.county_user, case=case)
    assert names(w.county_user) == [] and names(w.firm_user) == ["appeal"]
    services.case_appeal(user=w.firm_user, case=case, reason="员工无过错")
    assert names(w.firm_user) == [] and names(w.city_user) == ["findings"]
