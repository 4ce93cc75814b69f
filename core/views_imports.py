"""A background bulk upload's page (issue 12): its progress while it runs, then its result (rows
saved, or every error, downloadable as xlsx, with the borrower renames to confirm). Thin: the
run is read through ``import_run_get_for_user`` (another organisation's run is a 404) and
started again by ``core.bulk_import``."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.bulk_import import error_workbook, import_run_again, import_run_get_for_user, progress_of
from core.exports import XLSX
from core.models import ImportRun
from core.views_helpers import ConfirmRenamesForm, renames_of

# Where the entered rows are listed, and where another file is uploaded, by kind.
LIST_URLS = {ImportRun.Kind.PROJECTS: "riskpool:project-list", ImportRun.Kind.GUARANTEES: "guarantees:guarantee-list"}
UPLOAD_URLS = {ImportRun.Kind.PROJECTS: "riskpool:project-upload", ImportRun.Kind.GUARANTEES: "guarantees:guarantee-import"}


def _status(run: ImportRun) -> dict:
    done = progress_of(run) if not run.finished else run.progress_done
    total = max(run.progress_total, done)
    percent = 100 if run.finished else (done * 100 // total if total else 0)
    return {"id": run.pk, "state": run.state, "state_label": run.get_state_display(), "done": done, "total": total,
            "percent": percent, "finished": run.finished, "saved": run.saved,
            "result_url": reverse("imports:run", args=[run.pk])}


@login_required
def import_run_page(request, run_id: int):
    run = import_run_get_for_user(user=request.user, run_id=run_id)
    return render(request, "core/import_run.html", {
        "run": run, "status": _status(run), "errors": run.errors, "renames": renames_of(run.errors),
        "form": ConfirmRenamesForm(), "list_url": reverse(LIST_URLS[run.kind]), "upload_url": reverse(UPLOAD_URLS[run.kind]),
    })


@login_required
def import_run_status(request, run_id: int):
    run = import_run_get_for_user(user=request.user, run_id=run_id)
    return JsonResponse(_status(run))


@login_required
def import_run_errors(request, run_id: int):
    run = import_run_get_for_user(user=request.user, run_id=run_id)
    response = HttpResponse(error_workbook(run), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="upload-{run.pk}-errors.xlsx"'
    return response


@login_required
@require_POST
def import_run_confirm(request, run_id: int):
    """The same file entered again with the renames its result listed, once they are ticked."""
    run = import_run_get_for_user(user=request.user, run_id=run_id)
    form = ConfirmRenamesForm(request.POST)
    if run.state != ImportRun.State.REJECTED or not form.is_valid() or not form.confirmed_renames():
        return redirect("imports:run", run_id=run.pk)
    again = import_run_again(user=request.user, run=run, confirmed_renames=form.confirmed_renames())
    return redirect("imports:run", run_id=again.pk)
