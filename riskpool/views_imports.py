"""Bulk loan-project upload page (贷款项目批量入库) for a member bank's operator, and its xlsx
template. Thin: the file is read and entered, all rows or none, by riskpool.imports; a file of
more than ``BULK_IMPORT_INLINE_ROWS`` rows is queued (core.bulk_import) and the browser goes to
its progress and result page. Nothing here checks a rule."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.bulk_import import import_run_start, runs_inline
from core.models import ImportRun
from core.views_helpers import ConfirmRenamesForm, renames_of, run_upload
from riskpool import imports, selectors
from riskpool.permissions import is_bank_operator
from riskpool.views import _require


class ProjectUploadForm(ConfirmRenamesForm):
    """The pool is one of the bank's own (another bank's or an unknown pool is not a choice)."""

    pool = forms.ModelChoiceField(label=gettext_lazy("Pool"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=gettext_lazy("File (.xlsx or .csv)"),
        help_text=gettext_lazy("One loan per row, with the template's header row. Nothing is saved if any row is wrong."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = pools


@login_required
def project_upload(request):
    _require(is_bank_operator, request.user)
    pools = selectors.pools_of_bank(user=request.user)
    errors, status = None, 200
    if request.method == "POST":
        form = ProjectUploadForm(request.POST, request.FILES, pools=pools)
        if form.is_valid():
            pool, upload = form.cleaned_data["pool"], form.cleaned_data["file"]
            saved, errors, status = run_upload(form, lambda: _enter_or_queue(request, form, pool, upload))
            if isinstance(saved, ImportRun):
                return redirect("imports:run", run_id=saved.pk)
            if saved is not None:
                messages.success(request, format_html(
                    '{} <a href="{}">{}</a>',
                    ngettext("%(count)d loan entered in the loan library.", "%(count)d loans entered in the loan library.",
                             saved) % {"count": saved},
                    reverse("riskpool:project-list"), _("See the list"),
                ))
                return redirect("riskpool:project-upload")
        else:
            status = 400
    else:
        form = ProjectUploadForm(pools=pools, initial={"pool": pools.first()})
    return render(request, "riskpool/project_upload.html", {
        "form": form, "errors": errors, "renames": renames_of(errors), "headers": imports.ALL_COLUMNS,
        "has_pools": pools.exists(), "inline_rows": settings.BULK_IMPORT_INLINE_ROWS,
        "max_rows": settings.BULK_UPLOAD_MAX_ROWS, "max_mb": imports.megabytes(settings.BULK_UPLOAD_MAX_BYTES),
    }, status=status)


def _enter_or_queue(request, form, pool, upload):
    """A small file is entered now (rows saved); a large one is stored and queued (its ImportRun)."""
    content, deadline, rows = imports.base.checked_content(upload)
    if runs_inline(rows - 1):
        return imports.import_content(user=request.user, pool=pool, content=content, deadline=deadline,
                                      confirmed_renames=form.confirmed_renames())
    return import_run_start(user=request.user, kind=ImportRun.Kind.PROJECTS, target_id=pool.pk, content=content,
                            file_name=upload.name, rows=rows - 1, confirmed_renames=form.confirmed_renames())


@login_required
def project_upload_template(request):
    _require(is_bank_operator, request.user)
    response = HttpResponse(imports.template_workbook(), content_type=imports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="loan-projects-template.xlsx"'
    return response
