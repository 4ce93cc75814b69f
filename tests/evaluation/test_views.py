"""The evaluation pages: every page renders for its users; another organisation's rows are 404."""
from __future__ import annotations

import pytest
from django.urls import reverse

from core.jobs import job_run
from core.models import JobRun
from evaluation import services
from evaluation.models import EvaluationYear, Submission
from tests.evaluation.factories import TARGETS, accept, build_world, compensated_guarantee, file_submission, pdf

pytestmark = pytest.mark.django_db
YEAR = 2024


@pytest.fixture
def world():
    w = build_world(YEAR)
    services.year_setup(user=w.authority, year=YEAR, targets=TARGETS)
    job_run(job_id="JB-8", period=str(YEAR), trigger=JobRun.Trigger.COMMAND)
    return w


def sub_of(w, user=None):
    return Submission.objects.get(firm=(user or w.firm_user).organisation)


def test_home_for_each_role(client, world):
    for user in (world.firm_user, world.county_user, world.city_user, world.authority):
        client.force_login(user)
        assert client.get(reverse("evaluation:home")).status_code == 200


def test_firm_pages_and_downloads(client, world):
    client.force_login(world.firm_user)
    sub = sub_of(world)
    page = client.get(reverse("evaluation:submission", args=[sub.pk]))
    assert page.status_code == 200 and "3,000,000.00" in page.content.decode()  # the computed balance, as people read it
    file_submission(world, sub)
    assert client.get(reverse("evaluation:scoring-form", args=[sub.pk])).status_code == 200
    xlsx = client.get(reverse("evaluation:scoring-form-xlsx", args=[sub.pk]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    material = sub.materials.first()
    assert client.get(reverse("evaluation:material", args=[material.pk])).status_code == 200


def test_another_firm_and_another_county_get_404(client, world):
    sub = sub_of(world)
    file_submission(world, sub)
    material = sub.materials.first()
    for user in (world.other_firm_user, world.other_county_user):
        client.force_login(user)
        assert client.get(reverse("evaluation:submission", args=[sub.pk])).status_code == 404
        assert client.get(reverse("evaluation:material", args=[material.pk])).status_code == 404
        response = client.post(reverse("evaluation:submission-step", args=[sub.pk, "forward"]), {"opinion": "x"})
        assert response.status_code == 404


def test_return_with_a_reason_through_the_page(client, world):
    sub = file_submission(world, sub_of(world))
    client.force_login(world.county_user)
    client.post(reverse("evaluation:submission-step", args=[sub.pk, "return"]), {"reason": "缺少盖章"})
    sub.refresh_from_db()
    assert sub.state == "draft" and sub.return_reason == "缺少盖章"


def test_upload_through_the_page_checks_content(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.firm_user)
    sub = sub_of(world)
    url = reverse("evaluation:submission-step", args=[sub.pk, "upload"])
    response = client.post(url, {"kind": "statistics", "file": SimpleUploadedFile("a.pdf", b"not a pdf")}, follow=True)
    assert "is not a PDF" in response.content.decode()
    client.post(url, {"kind": "statistics", "file": pdf()})
    assert sub.materials.filter(kind="statistics").exists()


def test_several_materials_at_once_each_error_beside_its_file(client, world):
    """Issue 13.9: every material due at the step in one form; a refused file keeps its problem
    beside its own field and the good ones are kept."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.firm_user)
    sub = sub_of(world)
    page = client.get(reverse("evaluation:submission", args=[sub.pk])).content.decode()
    assert 'name="file_statistics"' in page and 'name="file_business_report"' in page
    url = reverse("evaluation:materials-upload", args=[sub.pk])
    response = client.post(url, {"file_statistics": pdf(), "file_business_report": pdf("b.pdf"),
                                 "file_scoring_form": SimpleUploadedFile("a.pdf", b"not a pdf")},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    form = response.context["material_form"]
    assert set(form.errors) == {"file_scoring_form"} and "is not a PDF" in str(form.errors["file_scoring_form"])
    assert set(sub.materials.values_list("kind", flat=True)) == {"statistics", "business_report"}
    assert client.post(url, {}).status_code == 400  # nothing chosen: said so, nothing saved
    ok = client.post(url, {"file_scoring_form": pdf("c.pdf")})
    assert ok.status_code == 302 and sub.materials.filter(kind="scoring_form").exists()


def test_another_firm_cannot_upload_to_a_submission(client, world):
    from tests.factories import firm_user

    sub = sub_of(world)
    client.force_login(firm_user())
    response = client.post(reverse("evaluation:materials-upload", args=[sub.pk]), {"file_statistics": pdf()})
    assert response.status_code == 404 and not sub.materials.exists()


def test_province_year_pages_setup_and_results(client, world):
    client.force_login(world.authority)
    assert client.get(reverse("evaluation:year", args=[YEAR])).status_code == 200
    assert client.get(reverse("evaluation:year-setup", args=[YEAR])).status_code == 200
    assert client.get(reverse("evaluation:distribution")).status_code == 200
    services.review_close(user=world.authority, year=EvaluationYear.objects.get(year=YEAR))
    client.post(reverse("evaluation:year-publish", args=[YEAR]))
    assert EvaluationYear.objects.get(year=YEAR).stage == "published"
    assert client.get(reverse("evaluation:results", args=[YEAR])).status_code == 200
    assert client.get(reverse("evaluation:results", args=[YEAR]) + "?print=1").status_code == 200
    assert client.get(reverse("evaluation:results-xlsx", args=[YEAR])).status_code == 200
    assert client.get(reverse("evaluation:firm-history", args=[world.firm.pk])).status_code == 200
    assert client.get(reverse("evaluation:interviews")).status_code == 200


def test_year_setup_page_saves_targets_and_scheme(client, world):
    client.force_login(world.authority)
    from evaluation import rules
    from tests.evaluation.test_scheme_form import scheme_post

    data = {"t-leverage": "4.00", "t-clients": "300", "t-amount": "500000000.00", **scheme_post()}
    response = client.post(reverse("evaluation:year-setup", args=[2025]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    year = EvaluationYear.objects.get(year=2025)
    assert year.target_clients == 300 and year.indicators() == rules.DEFAULT_SCHEME


def test_a_supervisor_cannot_set_up_a_year(client, world):
    client.force_login(world.city_user)
    assert client.get(reverse("evaluation:year-setup", args=[YEAR])).status_code == 403


def test_case_pages(client, world):
    guarantee = compensated_guarantee(world.firm)
    client.force_login(world.firm_user)
    assert client.get(reverse("evaluation:case-new")).status_code == 200
    response = client.post(reverse("evaluation:case-new"), {
        "guarantee": guarantee.pk, "staff": "张三", "grounds": ["EV-12.6"], "evidence_ground": "EV-12.6",
        "evidence_description": "评估报告", "evidence_archive_ref": "档案-1"})
    assert response.status_code == 302
    case = guarantee.exemption_cases.get()
    client.force_login(world.county_user)
    client.post(reverse("evaluation:case-step", args=[case.pk, "findings"]), {"grounds": ["EV-12.6"]})
    client.post(reverse("evaluation:case-step", args=[case.pk, "confirm"]))
    case.refresh_from_db()
    assert case.state == "decided" and case.decisions.get().outcome == "exempt"
    client.force_login(world.other_firm_user)
    assert client.get(reverse("evaluation:case", args=[case.pk])).status_code == 404


def test_ev10_distribution_list_reads_results_others_do_not(client, world):
    from tests.factories import OrganisationFactory, UserFactory

    for user in (world.firm_user, world.other_firm_user):
        accept(world, user)
    services.review_close(user=world.authority, year=EvaluationYear.objects.get(year=YEAR))
    services.results_publish(year=YEAR)
    reguarantee = OrganisationFactory(kind="reguarantee_firm", region=world.province)
    reader = UserFactory(organisation=reguarantee)
    client.force_login(reader)
    assert client.get(reverse("evaluation:home")).status_code == 403
    services.distribution_add(user=world.authority, organisation=reguarantee)
    assert client.get(reverse("evaluation:home")).status_code == 200
    page = client.get(reverse("evaluation:results", args=[YEAR])).content.decode()
    assert world.firm.name in page and world.other_firm_user.organisation.name in page
    client.force_login(world.firm_user)
    page = client.get(reverse("evaluation:results", args=[YEAR])).content.decode()
    assert world.firm.name in page and world.other_firm_user.organisation.name not in page


def test_the_year_overview_is_not_for_firms(client, world):
    client.force_login(world.firm_user)
    assert client.get(reverse("evaluation:year", args=[YEAR])).status_code == 403
    client.force_login(world.county_user)
    page = client.get(reverse("evaluation:year", args=[YEAR])).content.decode()
    assert world.firm.name in page and world.other_firm_user.organisation.name not in page


def test_scoring_form_and_results_xlsx_write_a_firm_name_typed_as_a_formula_as_text(client, world):
    """Issue 10 point 3."""
    from core.models import Organisation
    from tests.spreadsheets import HOSTILE, assert_literal

    sub = sub_of(world)
    file_submission(world, sub)
    Organisation.objects.filter(pk=world.firm.pk).update(name=HOSTILE)
    client.force_login(world.firm_user)
    assert_literal(client.get(reverse("evaluation:scoring-form-xlsx", args=[sub.pk])).content)
    from evaluation.models import Result

    year = EvaluationYear.objects.get(year=YEAR)
    EvaluationYear.objects.filter(pk=year.pk).update(stage=EvaluationYear.Stage.PUBLISHED)
    Result.objects.create(year=year, firm=world.firm, region=world.county, total=80, rank=1, rank_from_bottom=1,
                          klass=Result.Klass.QUALIFIED)
    client.force_login(world.authority)
    assert_literal(client.get(reverse("evaluation:results-xlsx", args=[YEAR])).content)


def test_ev4_material_is_served_as_what_its_content_is(client, world):
    """A PDF named .html opens as a PDF; an xlsx named .pdf is downloaded as an xlsx."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook as OpenpyxlWorkbook

    sub = sub_of(world)
    report = services.material_upload(user=world.firm_user, submission=sub, kind="business_report",
                                      upload=pdf("report.html"))
    buffer = io.BytesIO()
    OpenpyxlWorkbook().save(buffer)
    stats = services.material_upload(user=world.firm_user, submission=sub, kind="statistics",
                                     upload=SimpleUploadedFile("stats.pdf", buffer.getvalue(), content_type="application/pdf"))
    client.force_login(world.firm_user)
    shown = client.get(reverse("evaluation:material", args=[report.pk]))
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline") and shown["Content-Disposition"].endswith('.pdf"')
    downloaded = client.get(reverse("evaluation:material", args=[stats.pk]))
    assert downloaded["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert downloaded["Content-Disposition"].startswith("attachment") and downloaded["Content-Disposition"].endswith('.xlsx"')
    assert downloaded["X-Content-Type-Options"] == "nosniff"


def test_ev3_declared_figures_list_every_problem_in_one_pass(client, world):
    """Issue 13.3: a figure that is not a number (field), a negative one, net assets of 0 and a
    small-micro amount above the total (EV-3 cross-field) are all shown beside their fields."""
    client.force_login(world.firm_user)
    sub = sub_of(world)
    response = client.post(reverse("evaluation:submission-step", args=[sub.pk, "declare"]), {
        "guarantee_balance": "abc", "net_assets": "0", "sme_clients": "-3", "sme_amount": "500",
        "total_amount": "100", "avg_fee_rate": ""})
    assert response.status_code == 400
    errors = response.context["declare_form"].errors
    assert {"guarantee_balance", "net_assets", "sme_clients", "sme_amount"} <= set(errors)
    assert all("EV-3" in str(errors[name]) for name in ("net_assets", "sme_amount"))
    sub.refresh_from_db()
    assert sub.declared == {}


def test_ev14_the_case_form_lists_every_problem_in_one_pass(client, world):
    """Issue 13.3: no staff named and no ground chosen (fields) and evidence without its
    description (EV-14, which would otherwise be dropped) are all shown at once."""
    guarantee = compensated_guarantee(world.firm)
    client.force_login(world.firm_user)
    response = client.post(reverse("evaluation:case-new"), {
        "guarantee": guarantee.pk, "staff": "", "evidence_ground": "EV-12.6", "evidence_archive_ref": "档案-1"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"staff", "grounds", "evidence_description"} <= set(errors)
    assert "EV-14" in str(errors["evidence_description"]) and not guarantee.exemption_cases.exists()


def test_ev10_the_interview_form_reports_every_problem_instead_of_saving_silently(client, world):
    """Issue 13.3: a note that is too long (field) and a close before the interview (EV-10) are
    both said on the page; nothing is saved."""
    from evaluation.models import Interview

    interview = Interview.objects.create(year=EvaluationYear.objects.get(year=YEAR), firm=world.firm)
    client.force_login(world.authority)
    response = client.post(reverse("evaluation:interviews"), {
        "interview": interview.pk, "scheduled_on": "2025-06-10", "closed_on": "2025-06-01", "note": "x" * 501},
        follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any("EV-10" in m for m in shown) and len(shown) == 2
    interview.refresh_from_db()
    assert interview.scheduled_on is None and interview.closed_on is None
