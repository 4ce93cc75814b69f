"""The evaluation part of the demo data set (``manage.py seed_demo``, core.demo).

- 2024, complete: scheme and targets set by the province, every firm's submission taken through
  its chain (one return with a reason on the way), the review closed and the results published by
  JB-9 (ranking, classes, region ranking).
- 2025, in progress: opened by JB-8 with the indicators computed from the recorded guarantees;
  呼玛县's firm with its county supervisor, 大兴安岭's firm with the city after a return, 宾县's firm
  still drafting with a declared figure flagged (EV-3).
- Two exemption cases (EV-14): one decided, one open; the distribution list (EV-10).

Everything goes through evaluation.services (rules, audit trail) and the job framework.
Idempotent: each step is taken only when its row is missing or still in the state before it, so
a second run creates nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from core import demo

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
DONE_YEAR, OPEN_YEAR = 2024, 2025
TARGETS = {
    DONE_YEAR: {"leverage": "3.00", "clients": 25, "amount": "40000000.00"},
    OPEN_YEAR: {"leverage": "3.00", "clients": 60, "amount": "120000000.00"},
}
FIRM_KEYS = ("firm_dxal", "firm_huma", "firm_binxian")


@dataclass
class EvaluationResult:
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _file_materials(user, sub) -> None:
    from evaluation import services

    for kind in ("scoring_form", "business_report", "statistics"):
        services.material_upload(user=user, submission=sub, kind=kind, upload=_pdf(f"{kind}-{sub.year.year}.pdf"))
    services.material_upload(user=user, submission=sub, kind="audit_report", upload=_pdf(f"audit-{sub.year.year}.pdf"),
                             auditor="黑龙江华信会计师事务所", auditor_clean=True)


def _firm_files(user, sub):
    from evaluation import services

    _file_materials(user, sub)
    sub = services.scoring_form_sign(user=user, submission=sub)
    return services.submission_submit(user=user, submission=sub)


def _through(sub, users, *, until: str, return_at: str | None = None):
    """Take a filed submission through its reviewers up to state ``until``; ``return_at`` names a
    state whose reviewer first returns it one step with a reason (EV-5)."""
    from evaluation import services
    from evaluation.rules import State

    reviewers = {State.COUNTY: users["county_supervisor"], State.CITY: users["city_supervisor"],
                 State.PROVINCE: users["authority_admin"]}
    returned = False
    while sub.state != until:
        user = reviewers[sub.state]
        if sub.state == return_at and not returned:
            sub = services.submission_return(user=user, submission=sub, reason="佐证材料不完整，请补充后重新报送。")
            returned = True
            if sub.state == State.DRAFT:
                sub = _firm_files(users[_operator_of(sub)], sub)
            continue
        if sub.state == State.COUNTY:
            services.material_upload(user=user, submission=sub, kind="compliance_report", upload=_pdf("合规报告.pdf"))
            sub = services.submission_forward(user=user, submission=sub, opinion="经核查，该机构年度经营合规，同意上报。")
        elif sub.state == State.CITY:
            services.material_upload(user=user, submission=sub, kind="spot_check", upload=_pdf("抽查报告.pdf"))
            sub = services.submission_forward(user=user, submission=sub, opinion="抽查无异常，同意报省级主管部门。")
        else:
            sub = services.submission_forward(user=user, submission=sub, opinion="审核通过。")
    return sub


_OPERATORS: dict[int, str] = {}


def _operator_of(sub) -> str:
    return _OPERATORS[sub.firm_id]


def _complete_year(orgs, users, result) -> None:
    from core.jobs import job_run
    from core.models import JobRun
    from evaluation import services
    from evaluation.models import EvaluationYear, Submission
    from evaluation.rules import State

    row = EvaluationYear.objects.filter(year=DONE_YEAR).first()
    if row and row.stage == EvaluationYear.Stage.PUBLISHED:
        return
    if row is None or not row.has_targets:
        services.year_setup(user=users["authority_admin"], year=DONE_YEAR, targets=TARGETS[DONE_YEAR])
    if not JobRun.objects.filter(job="JB-8", period=str(DONE_YEAR), state=JobRun.State.SUCCEEDED).exists():
        job_run(job_id="JB-8", period=str(DONE_YEAR), trigger=JobRun.Trigger.COMMAND)
    for key in FIRM_KEYS:
        sub = Submission.objects.get(year__year=DONE_YEAR, firm=orgs[key])
        if sub.state == State.DRAFT:
            sub = _firm_files(users[_operator_of(sub)], sub)
        _through(sub, users, until=State.ACCEPTED, return_at=State.CITY if key == "firm_huma" else None)
    sampled = Submission.objects.get(year__year=DONE_YEAR, firm=orgs["firm_dxal"])
    if not sampled.third_party_sample:
        services.submission_sample(user=users["authority_admin"], submission=sampled, note="委托第三方会计师事务所抽查")
    if EvaluationYear.objects.get(year=DONE_YEAR).stage == EvaluationYear.Stage.OPEN:
        services.review_close(user=users["authority_admin"], year=EvaluationYear.objects.get(year=DONE_YEAR))
    job_run(job_id="JB-9", period=str(DONE_YEAR), trigger=JobRun.Trigger.COMMAND)
    result.notes.append(f"Evaluation {DONE_YEAR}: filed, reviewed and published (JB-9).")


def _open_year(orgs, users, result) -> None:
    from core.jobs import job_run
    from core.models import JobRun
    from evaluation import services
    from evaluation.models import EvaluationYear, Submission
    from evaluation.rules import State

    if not EvaluationYear.objects.filter(year=OPEN_YEAR, target_leverage__isnull=False).exists():
        services.year_setup(user=users["authority_admin"], year=OPEN_YEAR, targets=TARGETS[OPEN_YEAR])
    if not JobRun.objects.filter(job="JB-8", period=str(OPEN_YEAR), state=JobRun.State.SUCCEEDED).exists():
        job_run(job_id="JB-8", period=str(OPEN_YEAR), trigger=JobRun.Trigger.COMMAND)
    subs = {key: Submission.objects.get(year__year=OPEN_YEAR, firm=orgs[key]) for key in FIRM_KEYS}
    if subs["firm_huma"].state == State.DRAFT and not subs["firm_huma"].history.exists():
        _firm_files(users["firm_operator_huma"], subs["firm_huma"])  # waiting on the county
    if subs["firm_dxal"].state == State.DRAFT and not subs["firm_dxal"].history.exists():
        sub = _firm_files(users["firm_operator"], subs["firm_dxal"])
        sub = services.submission_return(user=users["city_supervisor"], submission=sub,
                                         reason="统计表与业务报告数据不一致，请核对。")
        _firm_files(users["firm_operator"], sub)  # back with the city
    binxian = subs["firm_binxian"]
    if binxian.state == State.DRAFT and not binxian.declared:
        computed = binxian.computed
        declared = {k: computed[k] for k in ("guarantee_balance", "net_assets", "total_amount") if computed.get(k)}
        if computed.get("sme_amount"):
            declared["sme_amount"] = str((Decimal(computed["sme_amount"]) * Decimal("1.05")).quantize(Decimal("0.01")))
        services.submission_declare(user=users["firm_operator_binxian"], submission=binxian, declared=declared)
    result.notes.append(f"Evaluation {OPEN_YEAR}: in progress (county, city and firm each hold one submission).")


def _cases(orgs, users, result) -> None:
    from evaluation import services
    from evaluation.models import ExemptionCase
    from guarantees.models import Guarantee

    compensated = (Guarantee.Status.COMPENSATED, Guarantee.Status.RECOVERING, Guarantee.Status.WRITTEN_OFF)
    plans = [("firm_huma", "firm_operator_huma", ["EV-12.6"], True), ("firm_dxal", "firm_operator", ["EV-12.7"], False)]
    for key, login, grounds, decide in plans:
        if ExemptionCase.objects.filter(firm=orgs[key]).exists():
            continue
        guarantee = Guarantee.objects.filter(firm=orgs[key], status__in=compensated).order_by("contract_no").first()
        if guarantee is None:
            continue
        case = services.case_open(
            user=users[login], guarantee=guarantee, staff="客户经理 刘洋；风控经理 陈静", grounds=grounds,
            statement="抵押物因市场价格下跌贬值，业务办理全程合规。",
            evidence=[services.EvidenceData(grounds[0], "保前尽调报告及抵押物评估报告",
                                            f"{guarantee.contract_no} 业务档案")])
        if decide:
            services.case_findings_record(user=users["county_supervisor"], case=case, grounds=grounds,
                                          staff_at_fault=False)
            services.case_confirm(user=users["county_supervisor"], case=case)
    result.notes.append("Exemption cases: one decided (免责), one open.")


@demo.part(order=40)
def build_evaluation_demo(orgs: dict, users: dict) -> EvaluationResult:
    """Create or complete the evaluation part of the demo; ``orgs`` and ``users`` are core.demo's."""
    from django.db import transaction

    from core.demo import FIRM_OPERATORS
    from evaluation import services

    result = EvaluationResult()
    _OPERATORS.update({orgs[key].pk: login for key, login in FIRM_OPERATORS.items()})
    with transaction.atomic():
        for key in ("reguarantee", "city_authority"):
            if not _listed(orgs[key]):
                services.distribution_add(user=users["authority_admin"], organisation=orgs[key], note="结果通报")
        _complete_year(orgs, users, result)
        _open_year(orgs, users, result)
        _cases(orgs, users, result)
    result.logins += [
        ("authority_admin", "authority_admin", "/evaluation/", f"evaluation: {DONE_YEAR} results, {OPEN_YEAR} overview"),
        ("county_supervisor", "county_supervisor", "/evaluation/", "evaluation: 呼玛县 submission to review"),
        ("city_supervisor", "city_supervisor", "/evaluation/", "evaluation: 大兴安岭 submission to review"),
        ("firm_operator", "firm_operator_binxian", "/evaluation/", "evaluation: draft with a flagged figure"),
    ]
    return result


def _listed(org) -> bool:
    from evaluation.models import DistributionRecipient

    return DistributionRecipient.objects.filter(organisation=org).exists()
