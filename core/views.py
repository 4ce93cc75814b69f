"""Pages of the platform itself: sign-in, the home page of each kind of user, the audit trail."""
from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import check_for_language
from django.utils.translation import gettext_lazy as _

from core import selectors
from core.audit_display import changes_in_words
from core.auth import LoginForm
from core.calendar import provisional_years, shanghai_today
from core.home import panels_for
from core.models import AuditEvent, Notification, Organisation, User
from core.notifications import latest_scan_day, notifications_for
from core.permissions import is_oversight_user
from core.views_helpers import paginate

K = Organisation.Kind


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """Signing in applies the language kept on the account (chosen in the switch), so a person
        reads their own language on any browser, not the browser's or the last user's."""
        response = super().form_valid(form)
        language = form.get_user().language
        if language and check_for_language(language):
            translation.activate(language)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


def _url(name: str, *args) -> str | None:
    """The URL of a page of another part of the system, or None while it is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _home_role(user) -> str:
    """"oversight", "firm", "bank" or "other": the apps' home panels show the first three their
    figures; "other" is pointed to the menu."""
    if is_oversight_user(user):
        return "oversight"
    kind = user.organisation.kind if user.organisation_id else None
    return {K.GUARANTEE_FIRM: "firm", K.BANK: "bank"}.get(kind, "other")


def _calendar_warning(today: date) -> dict | None:
    """JB-1: the years around today whose holiday notice is not entered yet (provisional)."""
    years = provisional_years(range(today.year - 1, today.year + 2))
    if not years:
        return None
    return {
        "years": years,
        "calendar_url": _url("calendar"),
        "day_url": _url("admin:core_calendarday_changelist"),
        "year_url": _url("admin:core_calendaryear_changelist"),
    }


@login_required
def home(request):
    """The apps' panels (core.home), the JB-3 deadlines and, for the oversight, the JB-1 calendar
    warning. The page-head links are the panels' own, then the audit trail for the oversight."""
    user = request.user
    role = _home_role(user)
    today = shanghai_today()
    panels = panels_for(user, today)
    links = [link for panel in panels for link in panel.get("links", ())]
    if role == "oversight":
        links += [{"label": _("Audit trail"), "url": url} for url in [_url("audit-list")] if url]
    context = {
        "role": role, "today": today, "panels": panels, "links": links, "deadlines": _deadline_lists(user),
        "calendar_warning": _calendar_warning(today) if role == "oversight" else None,
    }
    return render(request, "core/home.html", context)


HOME_DEADLINES = 20


def _deadline_lists(user) -> dict:
    """JB-3: the organisation's overdue and due-soon items from the latest daily scan."""
    notes = notifications_for(user=user)
    overdue = notes.filter(kind=Notification.Kind.OVERDUE)
    soon = notes.filter(kind=Notification.Kind.DUE_SOON)
    return {"scanned_on": latest_scan_day(), "overdue": list(overdue[:HOME_DEADLINES]), "overdue_count": overdue.count(),
            "soon": list(soon[:HOME_DEADLINES]), "soon_count": soon.count(), "limit": HOME_DEADLINES}


# --- the audit trail ---------------------------------------------------------------------------



class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All"))] + list(AuditEvent.Action.choices)
    )
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("All"))] + list(object_types)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


@login_required
def audit_list(request):
    """The audit trail of the user's jurisdiction: who changed what, when, from what."""
    user = request.user
    if not is_oversight_user(user):
        raise PermissionDenied(_("The audit trail is for the authority and supervisors."))
    object_types = selectors.audit_object_types()
    form = AuditFilterForm(request.GET or None, object_types=object_types)
    type_names = {label: name.rsplit(" (", 1)[0] for label, name in object_types}
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    events = selectors.audit_events_for_user(user=user, **filters)
    page = paginate(request, events)
    rows = [
        {"event": event, "changes": changes_in_words(event.object_type, selectors.audit_changes(event)),
         "type_name": type_names.get(event.object_type)}
        for event in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/audit_list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(), "filtered": bool(filters),
    })


def favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon of their own (the API's JSON, a
    file): the site's icon, rather than a 404 in every console."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def language_switch(request):
    """Django's set_language, and for a signed-in person the choice kept on their account, so the
    e-mails the system sends them (JB-3 deadlines, reminders) are in that language too."""
    from django.views.i18n import set_language

    response = set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and check_for_language(language):
        User.objects.filter(pk=request.user.pk).update(language=language)
    return response
