"""The authority's job page (JB-13): every registered job, its last runs, a form to run one for
a period, and the JSON the page polls for live progress. Authority administrators only."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Window
from django.db.models.functions import RowNumber
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.errors import Conflict, RuleViolation
from core.job_counts import count_rows, counts_text
from core.jobs import all_jobs, get_job, job_enqueue, show_lost_runs
from core.models import JobRun, Role
from core.views_helpers import add_rule_violation

LAST_RUNS = 5
ACTIVE = (JobRun.State.QUEUED, JobRun.State.RUNNING)


def _require_admin(user) -> None:
    if not user.has_role(Role.Code.AUTHORITY_ADMIN):
        raise PermissionDenied


class RunJobForm(forms.Form):
    job = forms.CharField(widget=forms.HiddenInput)
    period = forms.CharField(label=gettext_lazy("Period"), max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.auto_id = f"id_{self.data.get('job') or self.initial.get('job', '')}_%s"  # one form per job

    def clean(self):
        data = super().clean()
        if "job" in data and "period" in data:
            try:
                get_job(data["job"]).check_period(data["period"])
            except RuleViolation as exc:
                add_rule_violation(self, exc)
        return data


def _last_runs() -> dict[str, list[JobRun]]:
    """The newest runs of every job, in one query (a window per job)."""
    runs = (
        JobRun.objects.select_related("started_by")
        .annotate(rank=Window(RowNumber(), partition_by="job", order_by="-queued_at"))
        .filter(rank__lte=LAST_RUNS)
        .order_by("job", "rank")
    )
    by_job: dict[str, list[JobRun]] = {}
    for run in show_lost_runs(list(runs)):
        run.count_rows = count_rows(run.counts)
        by_job.setdefault(run.job, []).append(run)
    return by_job


@login_required
def jobs_page(request):
    _require_admin(request.user)
    posted, status = None, 200
    if request.method == "POST":
        posted = RunJobForm(request.POST)
        if posted.is_valid():
            job_id, period = posted.cleaned_data["job"], posted.cleaned_data["period"]
            try:
                job_enqueue(job_id=job_id, period=period, user=request.user)
            except Conflict as exc:
                add_rule_violation(posted, exc)
                status = 409
            else:
                messages.success(request, _("%(job)s for %(period)s is queued.") % {"job": job_id, "period": period})
                return redirect("jobs:list")
        else:
            status = 400
    runs = _last_runs()
    rows = []
    for spec in all_jobs():
        if posted is not None and posted.data.get("job") == spec.id:
            form = posted  # with its errors and what was typed
        else:
            form = RunJobForm(initial={"job": spec.id, "period": spec.default_period()})
        rows.append({"spec": spec, "form": form, "runs": runs.get(spec.id, [])})
    return render(request, "core/jobs.html", {"rows": rows, "active_states": ACTIVE}, status=status)


def _run_json(run: JobRun) -> dict:
    return {
        "id": run.pk,
        "job": run.job,
        "period": run.period,
        "state": run.state,
        "state_label": run.get_state_display(),
        "done": run.progress_done,
        "total": run.progress_total,
        "percent": run.progress_percent,
        "attempts": run.attempts,
        "counts": run.counts,
        "counts_text": counts_text(run.counts),  # in the viewer's language (issue 13.2)
        "error": run.error,
        "worker_lost": run.worker_lost,
        "finished": timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M:%S") if run.finished_at else None,
    }


@require_GET
@login_required
def jobs_progress(request):
    """Queued and running runs, plus those asked for by ``?ids=1,2`` (so the page sees them end)."""
    _require_admin(request.user)
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.strip().isdigit()][:100]
    runs = show_lost_runs(list(JobRun.objects.filter(Q(state__in=ACTIVE) | Q(pk__in=ids))))
    return JsonResponse({"runs": [_run_json(run) for run in runs]})
