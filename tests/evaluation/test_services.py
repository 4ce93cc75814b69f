"""The evaluation workflow through its services: year set-up (EV-9), JB-8 opening with computed
figures (EV-1, EV-3), materials (EV-4), the chain with returns (EV-5), JB-9 results (EV-6 … EV-8,
EV-10), JB-10, the deadlines provider and exemption cases (EV-11 … EV-14)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from core import deadlines
from core.errors import RuleViolation
from core.jobs import get_job, job_run
from core.models import JobRun
from evaluation import rules, selectors, services
from evaluation.models import EvaluationYear, Interview, RegionResult, Reminder, Result, Submission, YearExclusion
from tests.evaluation.factories import TARGETS, accept, build_world, compensated_guarantee, file_submission, pdf

pytestmark = pytest.mark.django_db
YEAR = 2024


@pytest.fixture
def world():
    return build_world(YEAR)


@pytest.fixture
def opened(world):
    services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    return world


def sub_of(world, user=None):
    user = user or world.firm_user
    return Submission.objects.get(year__year=YEAR, firm=user.organisation)


# --- EV-9 year set-up ---


def test_ev9_only_the_province_sets_targets_and_scheme(world):
    with pytest.raises(PermissionDenied):
        services.year_setup(user=world.city_user, year=YEAR, targets=TARGETS)
    row = services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    assert row.targets() == rules.Targets(D("3.00"), D("2"), D("2000000.00"))
    assert row.indicators() == rules.DEFAULT_SCHEME


def test_ev2_a_scheme_not_adding_up_to_100_is_refused(world):
    rows = rules.default_scheme_rows()
    rows[0]["weight"] = "10"
    with pytest.raises(RuleViolation):
        services.year_setup(user=world.authority, year=YEAR, scheme=rows)


# --- JB-8 / EV-1 / EV-3 ---


def test_jb8_opens_the_year_with_computed_figures_and_is_idempotent(opened):
    sub = sub_of(opened)
    assert sub.state == rules.State.DRAFT
    assert sub.county_org == opened.county_user.organisation and sub.city_org == opened.city_user.organisation
    assert sub.computed["guarantee_balance"] == "3000000.00" and sub.computed["net_assets"] == "1000000.00"
    assert sub.computed["leverage"] == "3.000000" and sub.computed["sme_clients"] == 3
    assert sub.computed["avg_fee_rate"] == "0.008000" and sub.computed["support_share"] == "1.000000"
    city_firm = sub_of(opened, opened.city_firm_user)
    assert city_firm.county_org is None and city_firm.steps()[1] == rules.State.CITY
    count = Submission.objects.count()
    run = job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    assert Submission.objects.count() == count == 3 and run.counts["submissions_created"] == 0


def test_ev1_excluded_firms_are_not_opened(world):
    row = services.year_setup(user=world.authority, year=YEAR, targets=TARGETS)
    services.exclusion_set(user=world.authority, year=row, firm=world.other_firm_user.organisation,
                           reason=YearExclusion.Reason.AGRI_CREDIT)
    services.year_open(year=YEAR, actor="test")
    assert not Submission.objects.filter(firm=world.other_firm_user.organisation).exists()


def test_jb8_reminds_firms_from_1_march_once_per_stage(world):
    services.year_open(year=YEAR, actor="test")
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 2, 28)) == 0
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 3, 1)) == 3
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 3, 2)) == 0
    assert services.firm_reminders_send(year=YEAR, on=date(2025, 3, 20)) == 3
    assert Reminder.objects.filter(rule="EV-5").count() == 6


def test_jb8_schedule_ticks_on_5_january_1_and_20_march():
    spec = get_job("JB-8")
    assert [d for d in (date(2025, 1, 5), date(2025, 3, 1), date(2025, 3, 20), date(2025, 3, 2)) if spec.is_due(d)] \
        == [date(2025, 1, 5), date(2025, 3, 1), date(2025, 3, 20)]
    assert spec.period_for(date(2025, 1, 5)) == "2024"


def test_ev3_declared_figures_over_1_percent_flagged(opened):
    sub = services.submission_declare(user=opened.firm_user, submission=sub_of(opened),
                                      declared={"guarantee_balance": "3030000.00", "net_assets": "1010001.00"})
    assert sub.flagged == ["net_assets"]


# --- EV-4 materials ---


def test_ev4_type_is_checked_by_content_not_name(opened):
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(RuleViolation) as err:
        services.material_upload(user=opened.firm_user, submission=sub_of(opened), kind="business_report", upload=fake)
    assert err.value.rule == "EV-4"


def test_ev4_xlsx_is_accepted_by_content(opened):
    import io

    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    upload = SimpleUploadedFile("stats.bin", buffer.getvalue())
    material = services.material_upload(user=opened.firm_user, submission=sub_of(opened), kind="statistics",
                                        upload=upload)
    assert material.content_type == "xlsx"


def test_ev4_size_is_capped(opened, monkeypatch):
    monkeypatch.setattr(rules, "MAX_MATERIAL_BYTES", 10)
    with pytest.raises(RuleViolation, match="larger"):
        services.material_upload(user=opened.firm_user, submission=sub_of(opened), kind="statistics", upload=pdf())


def test_ev4_audit_report_needs_a_clean_accounting_firm(opened):
    with pytest.raises(RuleViolation) as err:
        services.material_upload(user=opened.firm_user, submission=sub_of(opened), kind="audit_report", upload=pdf(),
                                 auditor="某所", auditor_clean=False)
    assert err.value.field == "auditor"


def test_ev4_submit_needs_all_four_materials_and_the_signed_form(opened):
    with pytest.raises(RuleViolation) as err:
        services.submission_submit(user=opened.firm_user, submission=sub_of(opened))
    assert err.value.rule == "EV-4"


def test_ev9_signing_needs_targets(world):
    services.year_open(year=YEAR, actor="test")
    with pytest.raises(RuleViolation) as err:
        services.scoring_form_sign(user=world.firm_user, submission=sub_of(world))
    assert err.value.rule == "EV-9"


# --- EV-5 chain ---


def test_ev5_whole_chain_with_a_return(opened):
    w = opened
    sub = file_submission(w, sub_of(w))
    assert sub.state == rules.State.COUNTY and sub.total == D("100.00")
    with pytest.raises(PermissionDenied):
        services.submission_forward(user=w.other_county_user, submission=sub, opinion="x")
    with pytest.raises(RuleViolation):
        services.submission_forward(user=w.county_user, submission=sub, opinion="合规")  # no compliance report yet
    services.material_upload(user=w.county_user, submission=sub, kind="compliance_report", upload=pdf())
    sub = services.submission_forward(user=w.county_user, submission=sub, opinion="合规")
    assert sub.state == rules.State.CITY
    with pytest.raises(RuleViolation):
        services.submission_return(user=w.city_user, submission=sub, reason=" ")
    sub = services.submission_return(user=w.city_user, submission=sub, reason="合规报告缺少盖章")
    assert sub.state == rules.State.COUNTY and sub.return_reason == "合规报告缺少盖章"
    sub = services.submission_forward(user=w.county_user, submission=sub, opinion="已补盖章")
    services.material_upload(user=w.city_user, submission=sub, kind="spot_check", upload=pdf())
    sub = services.submission_forward(user=w.city_user, submission=sub, opinion="抽查无误")
    assert sub.state == rules.State.PROVINCE
    sub = services.submission_sample(user=w.authority, submission=sub, note="送第三方抽查")
    sub = services.submission_forward(user=w.authority, submission=sub, opinion="")
    assert sub.state == rules.State.ACCEPTED
    assert [s.action for s in sub.history.all()] == ["submit", "forward", "return", "forward", "forward", "sample",
                                                     "accept"]


def test_ev5_return_to_the_firm_needs_a_new_signature(opened):
    w = opened
    sub = file_submission(w, sub_of(w))
    sub = services.submission_return(user=w.county_user, submission=sub, reason="统计表有误")
    assert sub.state == rules.State.DRAFT and sub.form_signed_at is None


# --- scoping ---


def test_a_firm_never_sees_another_firms_submission(opened):
    w = opened
    other = sub_of(w, w.other_firm_user)
    assert list(selectors.submissions_for_user(user=w.firm_user)) == [sub_of(w)]
    with pytest.raises(Http404):
        selectors.submission_get_for_user(user=w.firm_user, submission_id=other.pk)


def test_a_county_supervisor_sees_only_its_county(opened):
    w = opened
    seen = {s.firm for s in selectors.submissions_for_user(user=w.county_user)}
    assert seen == {w.firm}
    assert len(selectors.submissions_for_user(user=w.city_user)) == 3
    assert len(selectors.submissions_for_user(user=w.authority)) == 3


def test_ev5_waiting_on_lists_each_partys_queue(opened):
    w = opened
    file_submission(w, sub_of(w))
    assert [s.firm for s in selectors.waiting_on(user=w.county_user)] == [w.firm]
    assert list(selectors.waiting_on(user=w.other_county_user)) == []
    assert list(selectors.waiting_on(user=w.authority)) == []


# --- JB-9 results ---


def test_jb9_waits_for_the_review_to_close_then_ranks_and_is_idempotent(opened):
    w = opened
    for user in (w.firm_user, w.other_firm_user, w.city_firm_user):
        assert accept(w, user).state == rules.State.ACCEPTED
    run = job_run(job_id="JB-9", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    assert run.counts["skipped"] and not Result.objects.exists()
    services.review_close(user=w.authority, year=EvaluationYear.objects.get(year=YEAR))
    job_run(job_id="JB-9", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    job_run(job_id="JB-9", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    assert Result.objects.count() == 3 and RegionResult.objects.count() == 1
    assert {r.rank for r in Result.objects.all()} == {1}  # all three score 100: tied first
    year = EvaluationYear.objects.get(year=YEAR)
    assert year.stage == EvaluationYear.Stage.PUBLISHED
    assert [r.firm for r in selectors.results_for_user(user=w.firm_user, year=year)] == [w.firm]
    assert selectors.results_for_user(user=w.authority, year=year).count() == 3


def test_ev10_unqualified_firms_get_one_interview(world):
    """Ten firms: the last one under T in the bottom 10% is unqualified and gets an interview."""
    from tests.evaluation.factories import business
    from tests.factories import OrganisationFactory, UserFactory

    w = world
    users = [w.firm_user, w.other_firm_user, w.city_firm_user]
    for _i in range(7):
        org = OrganisationFactory(kind="guarantee_firm", region=w.city, supervisor=w.city_user.organisation)
        business(org, YEAR)
        users.append(UserFactory(organisation=org, roles=["firm_operator"]))
    weak = OrganisationFactory(kind="guarantee_firm", region=w.city, supervisor=w.city_user.organisation)
    business(weak, YEAR, net_assets=D("2000000.00"), amounts=(D("1000000.00"),))  # L = 0.5 < T
    users.append(UserFactory(organisation=weak, roles=["firm_operator"]))
    users.remove(w.other_firm_user)
    services.year_setup(user=w.authority, year=YEAR, targets=TARGETS)
    services.year_open(year=YEAR, actor="test")
    for user in users:
        accept(w, user)
    services.review_close(user=w.authority, year=EvaluationYear.objects.get(year=YEAR))
    services.results_publish(year=YEAR)
    services.results_publish(year=YEAR)
    result = Result.objects.get(firm=weak)
    assert result.rank == 10 and result.klass == rules.Klass.UNQUALIFIED
    assert list(Interview.objects.values_list("firm", flat=True)) == [weak.pk]


# --- JB-10, deadlines ---


def test_jb10_reminds_the_province_once_when_targets_are_missing(world):
    job_run(job_id="JB-10", period="2025", trigger=JobRun.Trigger.COMMAND)
    job_run(job_id="JB-10", period="2025", trigger=JobRun.Trigger.COMMAND)
    assert list(Reminder.objects.values_list("organisation", "rule")) == [(world.authority.organisation_id, "EV-9")]
    services.year_setup(user=world.authority, year=2026, targets=TARGETS)
    assert services.targets_reminder_send(year=2026) == 0


def test_deadlines_provider_yields_ev5_and_ev9_obligations(opened):
    w = opened
    found = deadlines.obligations(today=date(2025, 3, 25), horizon=date(2025, 6, 1))
    ev5 = {(o.organisation_id, o.due_on) for o in found if o.rule == "EV-5"}
    assert (w.firm.pk, date(2025, 3, 31)) in ev5 and len(ev5) == 3
    ev9 = [o for o in found if o.rule == "EV-9"]
    assert [(o.organisation_id, o.due_on) for o in ev9] == [(w.authority.organisation_id, date(2025, 5, 31))]
    file_submission(w, sub_of(w))
    found = deadlines.obligations(today=date(2025, 3, 25), horizon=date(2025, 6, 1),
                                  organisation_ids={w.county_user.organisation_id})
    assert [(o.rule, o.due_on) for o in found] == [("EV-5", date(2025, 4, 15))]


# --- EV-11 … EV-14 cases ---


def test_ev14_case_decision_and_appeal_by_a_different_reviewer(world):
    w = world
    guarantee = compensated_guarantee(w.firm)
    case = services.case_open(user=w.firm_user, guarantee=guarantee, staff="张三（客户经理）", grounds=["EV-12.6"],
                              evidence=[services.EvidenceData("EV-12.6", "抵押物评估报告", "DB-0001 评审记录")])
    with pytest.raises(PermissionDenied):
        services.case_findings_record(user=w.other_firm_user, case=case, grounds=[], staff_at_fault=False)
    decision = services.case_findings_record(user=w.county_user, case=case, grounds=["EV-12.6"], staff_at_fault=True)
    assert decision.outcome == rules.Outcome.NOT_EXEMPT
    case = services.case_confirm(user=w.county_user, case=case)
    case = services.case_appeal(user=w.firm_user, case=case, reason="员工无过错")
    with pytest.raises(RuleViolation):
        services.case_findings_record(user=w.county_user, case=case, grounds=["EV-12.6"], staff_at_fault=False)
    appeal = services.case_findings_record(user=w.city_user, case=case, grounds=["EV-12.6"], staff_at_fault=False)
    assert appeal.outcome == rules.Outcome.EXEMPT
    case = services.case_confirm(user=w.city_user, case=case)
    assert case.state == "closed"


def test_ev14_case_only_on_a_compensated_guarantee(world):
    from tests.factories import GuaranteeFactory

    with pytest.raises(RuleViolation):
        services.case_open(user=world.firm_user, guarantee=GuaranteeFactory(agreement__firm=world.firm), staff="张三",
                           grounds=["EV-12.6"])


def test_ev5_deadlines_come_from_the_rule_set_in_force(world):
    from core.models import RuleSet
    from tests.factories import RuleSetFactory

    RuleSetFactory(scheme=RuleSet.Scheme.EVALUATION, effective_from=date(2024, 1, 1), params={"firm_days": 60})
    services.year_open(year=YEAR, actor="test")
    found = deadlines.obligations(today=date(2025, 2, 1), horizon=date(2025, 3, 5),
                                  organisation_ids={world.firm.pk})
    assert [(o.rule, o.due_on) for o in found] == [("EV-5", date(2025, 3, 1))]


def test_jb9_and_jb10_periods_and_the_beat_tick():
    from core.jobs import job_tick

    assert get_job("JB-9").period_for(date(2025, 5, 2)) == "2024"
    assert get_job("JB-10").period_for(date(2025, 5, 20)) == "2025"
    assert job_tick(job_id="JB-8", today=date(2025, 3, 2)) is None  # not one of its days
    assert get_job("JB-8").is_due(date(2025, 3, 20))


def test_ev4_material_is_stored_under_the_extension_of_its_content(opened):
    material = services.material_upload(user=opened.firm_user, submission=sub_of(opened), kind="business_report",
                                        upload=pdf("report.html"))
    assert material.content_type == "pdf" and material.file.name.endswith(".pdf")
    assert rules.material_file_name("C:\\docs\\年报.final.HTML", "pdf") == "年报.final.pdf"
    assert rules.material_file_name(".html", "docx") == "material.docx"


def test_ev4_a_replaced_material_file_is_removed_from_storage(opened, django_capture_on_commit_callbacks):
    sub = sub_of(opened)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.material_upload(user=opened.firm_user, submission=sub, kind="business_report", upload=pdf())
    old_name = first.file.name
    storage = first.file.storage
    assert storage.exists(old_name)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.material_upload(user=opened.firm_user, submission=sub, kind="business_report", upload=pdf())
    assert second.pk == first.pk and second.file.name != old_name
    assert storage.exists(second.file.name) and not storage.exists(old_name)
