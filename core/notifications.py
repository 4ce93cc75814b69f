"""JB-3: the daily deadline scan and what each organisation is shown of it.

The scan asks every app for its obligations (core.deadlines) due on or before the 5th working
day from today, stores each as a Notification of its organisation (overdue, or due soon), and
e-mails the organisation's people once about what is new. Re-running a day changes nothing
already there: a notification is unique per (organisation, item, due date, kind) and carries
when it was e-mailed.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import deadlines
from core.calendar import working_day_deadline
from core.models import JobRun, Notification, User

DUE_SOON_WORKING_DAYS = 5
CHUNK = 1000


def scan_horizon(today: date) -> date:
    """The last day that is still "due soon": the 5th working day after ``today`` (JB-1)."""
    return working_day_deadline(today, DUE_SOON_WORKING_DAYS).date


def _row(item: deadlines.Obligation, today: date) -> Notification:
    # JB-1: a provisional deadline is not enforced before the latest date it could turn out to be.
    kind = Notification.Kind.OVERDUE if item.last_day < today else Notification.Kind.DUE_SOON
    return Notification(
        organisation_id=item.organisation_id, kind=kind, rule=item.rule, key=item.key[:120], due_on=item.due_on,
        provisional=item.provisional, due_latest=item.latest_on if item.last_day != item.due_on else None,
        message=item.message, params=item.params, url=item.url, scanned_on=today,
    )


def deadlines_scan(*, today: date, progress=None) -> dict:
    """JB-3 for ``today``: upsert a notification per open obligation (the ones already there get
    today's ``scanned_on``, so the home page shows only what the latest scan still found), then
    e-mail each organisation what it has not been told yet."""
    items = deadlines.obligations(today=today, horizon=scan_horizon(today))
    rows = [_row(item, today) for item in items]
    for start in range(0, len(rows), CHUNK):
        Notification.objects.bulk_create(
            rows[start:start + CHUNK], update_conflicts=True,
            unique_fields=["organisation", "key", "due_on", "kind"],
            update_fields=["scanned_on", "provisional", "due_latest", "message", "params", "url", "rule"],
        )
        if progress:
            progress(min(start + CHUNK, len(rows)), len(rows))
    emailed = _email_new(today)
    counts = defaultdict(int)
    for row in rows:
        counts[row.kind] += 1
    return {"obligations": len(rows), "overdue": counts[Notification.Kind.OVERDUE],
            "due_soon": counts[Notification.Kind.DUE_SOON], "emails": emailed}


def _email_new(today: date) -> int:
    """One e-mail per person of each organisation with new notifications, sent after commit (a
    rolled-back scan sends nothing); the rows are marked e-mailed in the same transaction."""
    fresh = list(Notification.objects.filter(scanned_on=today, emailed_at__isnull=True).order_by("organisation_id", "due_on"))
    if not fresh:
        return 0
    by_org: dict[int, list[Notification]] = defaultdict(list)
    for note in fresh:
        by_org[note.organisation_id].append(note)
    # Each person in the language they chose (User.language), the site's default otherwise.
    people: dict[tuple[int, str], list[str]] = defaultdict(list)
    # A deactivated organisation's people are locked out, so they are not written to either.
    for org_id, email, language in User.objects.filter(
        organisation_id__in=by_org, is_active=True, organisation__is_active=True
    ).exclude(
        email=""
    ).values_list("organisation_id", "email", "language"):
        people[(org_id, language or settings.LANGUAGE_CODE)].append(email)
    messages = []
    for (org_id, language), addresses in sorted(people.items()):
        with translation.override(language):
            notes = by_org[org_id]
            messages.append((_deadline_subject(notes), _deadline_body(notes), settings.DEFAULT_FROM_EMAIL, addresses))
    Notification.objects.filter(pk__in=[n.pk for n in fresh]).update(emailed_at=timezone.now())
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return sum(len(m[3]) for m in messages)


def _deadline_subject(notes: list[Notification]) -> str:
    overdue = sum(1 for n in notes if n.kind == Notification.Kind.OVERDUE)
    return _("Deadlines: %(overdue)s overdue, %(soon)s due within 5 working days") % {
        "overdue": overdue, "soon": len(notes) - overdue}


def _deadline_body(notes: list[Notification]) -> str:
    lines = [f"{n.due_on:%Y-%m-%d}  [{n.rule}] {n.get_kind_display()}: {n.text()}" for n in notes]
    return "\n".join(lines) + "\n"


def latest_scan_day() -> date | None:
    run = JobRun.objects.filter(job="JB-3", state=JobRun.State.SUCCEEDED).order_by("-period").values("period").first()
    return date.fromisoformat(run["period"]) if run else None


def notifications_for(*, user) -> QuerySet[Notification]:
    """The user's organisation's overdue and due-soon items as the latest scan found them."""
    day = latest_scan_day()
    if day is None or not user.is_authenticated or user.organisation_id is None:
        return Notification.objects.none()
    return Notification.objects.filter(organisation_id=user.organisation_id, scanned_on=day).order_by("due_on", "id")


def _register_job() -> None:
    """JB-3 on the job framework (core.apps.ready calls this: core has no ``jobs`` module of its
    own to be discovered, core.jobs being the framework itself)."""
    from celery.schedules import crontab
    from django.utils.translation import gettext_lazy

    from core.jobs import JobSpec, register
    from core.periods import period_bounds

    def scan(run, period: str, progress) -> dict:
        _kind, day, _end = period_bounds(period)
        return deadlines_scan(today=day, progress=progress)

    register(JobSpec(
        id="JB-3", name=gettext_lazy("Daily deadline scan and notifications"),
        schedule=crontab(hour=1, minute=0),  # Asia/Shanghai (CELERY_TIMEZONE)
        period_for=lambda day: day.isoformat(), run=scan, when=gettext_lazy("Every day at 01:00"),
    ))
