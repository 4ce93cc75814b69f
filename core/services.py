"""Small helpers shared by every app's services."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.errors import Conflict, Problem, RuleViolation
from core.models import ApiToken, AuditEvent, Organisation, User
from core.scoping import visible_organisations


def require_member(user, organisation, *roles: str) -> None:
    """Refuse unless ``user`` belongs to ``organisation`` with one of ``roles`` (or is a superuser).

    Reads already hide other organisations' rows (404); this guards writes by a person of the
    right organisation but the wrong role, or a write naming another organisation's id.
    """
    if user.is_superuser:
        return
    if user.organisation_id != organisation.pk or not user.has_role(*roles):
        raise PermissionDenied(_("Your role does not allow this action for %(org)s.") % {"org": organisation})


def transition(model, *, pk, field: str, allowed: dict, old: str, new: str, **changes) -> None:
    """Move a workflow row from ``old`` to ``new`` if the transitions map allows it.

    The conditional UPDATE (… WHERE state = old) means two concurrent requests cannot both
    take the same step: the loser updates no row and gets a Conflict.
    """
    if new not in allowed.get(old, ()):
        raise Conflict("STATE", _("This step is not allowed from the state “%(state)s”.") % {"state": old})
    updated = model.objects.filter(pk=pk, **{field: old}).update(**{field: new}, **changes)
    if updated != 1:
        raise Conflict("STATE", _("Someone else changed this record just now; reload and try again."))


def api_token_issue(*, actor, user, name: str):
    """Issue an API token acting as ``user`` for its organisation; returns (token, full key).

    The key is returned once and never stored (only its hash), so the audit row leaves it out.
    """
    with transaction.atomic():
        token = ApiToken(organisation=user.organisation, user=user, name=name)
        key = token.assign_new_key()
        token.save()
        after = snapshot(token)
        after.pop("key_hash")
        audit(actor=actor, action=AuditEvent.Action.CREATE, instance=token, organisation=user.organisation,
              after=after, summary=i18n_text.gettext_lazy("API token %(token)s") % {"token": token})
    return token, key


# --- deactivation -------------------------------------------------------------------------------
# A deactivated organisation or person is locked out at once (core.auth refuses sign-in, ends
# sessions on their next request, and core.api.auth refuses tokens). Nothing of theirs is
# deleted or changed: their guarantees, claims and submissions stay where they are, visible to
# the authority, and come back to them on reactivation.


def _require_access_admin(actor, organisation: Organisation | None) -> None:
    """Superusers, and the authority's administrators for organisations in their jurisdiction."""
    if actor.is_superuser:
        return
    allowed = (
        actor.organisation_id is not None
        and actor.organisation.kind == Organisation.Kind.AUTHORITY
        and actor.has_role("authority_admin")
        and organisation is not None
        and visible_organisations(actor).filter(pk=organisation.pk).exists()
    )
    if not allowed:
        raise PermissionDenied(_("Only the authority's administrators may deactivate or reactivate %(org)s.")
                               % {"org": organisation or _("an account without organisation")})


def _clean_reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise RuleViolation("ACCESS", _("Give the reason for the deactivation; it is kept in the audit trail."),
                            "reason")
    return reason


def _set_active(*, actor, model, pk: int, active: bool, reason: str, organisation, summary):
    """Flip ``is_active`` with a conditional UPDATE (a concurrent flip loses) and audit it."""
    row = model.objects.select_for_update().get(pk=pk)
    if row.is_active == active:
        raise Conflict("STATE", _("%(name)s is already active.") % {"name": row} if active
                       else _("%(name)s is already deactivated.") % {"name": row})
    before = {"is_active": row.is_active}
    model.objects.filter(pk=pk, is_active=not active).update(is_active=active)
    row.is_active = active
    audit(actor=actor, action=AuditEvent.Action.TRANSITION, instance=row, organisation=organisation,
          before=before, after={"is_active": active, "reason": reason}, summary=summary % {"name": row, "reason": reason})
    return row


def organisation_deactivate(*, actor, organisation: Organisation, reason: str) -> Organisation:
    """Lock every person and API token of ``organisation`` out, keeping all its data."""
    reason = _clean_reason(reason, required=True)
    _require_access_admin(actor, organisation)
    if actor.organisation_id == organisation.pk:
        raise RuleViolation("ACCESS", _("You cannot deactivate your own organisation."), "organisation")
    with transaction.atomic():
        return _set_active(actor=actor, model=Organisation, pk=organisation.pk, active=False, reason=reason,
                           organisation=organisation, summary=i18n_text.gettext_lazy("Organisation deactivated: %(name)s (%(reason)s)"))


def organisation_reactivate(*, actor, organisation: Organisation, reason: str = "") -> Organisation:
    reason = _clean_reason(reason, required=False)
    _require_access_admin(actor, organisation)
    with transaction.atomic():
        return _set_active(actor=actor, model=Organisation, pk=organisation.pk, active=True, reason=reason,
                           organisation=organisation, summary=i18n_text.gettext_lazy("Organisation reactivated: %(name)s (%(reason)s)"))


def user_deactivate(*, actor, user: User, reason: str) -> User:
    """Lock one person out (sign-in, sessions, their API tokens), keeping everything they did."""
    reason = _clean_reason(reason, required=True)
    _require_access_admin(actor, user.organisation)
    if actor.pk == user.pk:
        raise RuleViolation("ACCESS", _("You cannot deactivate your own account."), "user")
    with transaction.atomic():
        return _set_active(actor=actor, model=User, pk=user.pk, active=False, reason=reason,
                           organisation=user.organisation, summary=i18n_text.gettext_lazy("User deactivated: %(name)s (%(reason)s)"))


def user_reactivate(*, actor, user: User, reason: str = "") -> User:
    reason = _clean_reason(reason, required=False)
    _require_access_admin(actor, user.organisation)
    with transaction.atomic():
        return _set_active(actor=actor, model=User, pk=user.pk, active=True, reason=reason,
                           organisation=user.organisation, summary=i18n_text.gettext_lazy("User reactivated: %(name)s (%(reason)s)"))


@transaction.atomic
def calendar_year_confirm(*, user, year: int, holidays: list, working_days: list, note: str = ""):
    """JB-1: the authority enters the State Council's notice of ``year`` (国务院办公厅关于某年部分
    节假日安排的通知): its days off (``holidays``) and make-up working days (``working_days``, 调休).

    The days become ``CalendarDay`` rows (a day the notice leaves out keeps any earlier
    override), the year is marked confirmed, and ``calendar_confirmed`` tells every app to
    recompute the deadlines it stored as provisional. A notice may reach into the December before
    (元旦 bridged from 30 December). Refused, naming the dates: a statutory weekday holiday of the
    办法 missing from the days off, a make-up working day that is not a Saturday or Sunday or is a
    statutory holiday, a day in both lists, a day outside the year. Entering a year again
    corrects it (audited as an update)."""
    from datetime import date

    from core.calendar import calendar_confirmed
    from core.holidays import statutory_holidays
    from core.models import CalendarDay, CalendarYear, Role

    if not user.has_role(Role.Code.AUTHORITY_ADMIN) or (
        not user.is_superuser and (user.organisation is None or user.organisation.kind != Organisation.Kind.AUTHORITY)
    ):
        raise PermissionDenied(_("Only the authority's administrators may enter the holiday notice."))
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise RuleViolation("JB-1", _("Give a year between 2000 and 2100."), "year")
    off, on = sorted(set(holidays)), sorted(set(working_days))
    problems = []

    def dates(values) -> str:
        return ", ".join(d.isoformat() for d in values)

    first = date(year - 1, 12, 1)
    for field, values in (("holidays", off), ("working_days", on)):
        outside = [d for d in values if not first <= d <= date(year, 12, 31)]
        if outside:
            problems.append(Problem("JB-1", _("Not in %(year)s (or the December before): %(dates)s.")
                                    % {"year": year, "dates": dates(outside)}, field))
    both = sorted(set(off) & set(on))
    if both:
        problems.append(Problem("JB-1", _("Listed both as a day off and as a working day: %(dates)s.")
                                % {"dates": dates(both)}, "working_days"))
    statutory = statutory_holidays(year)
    missing = [d for d in sorted(statutory) if d.weekday() < 5 and d not in off]
    if missing:
        problems.append(Problem("JB-1", _("These statutory holidays of the 全国年节及纪念日放假办法 are missing from the "
                                          "days off: %(dates)s.") % {"dates": dates(missing)}, "holidays"))
    weekdays = [d for d in on if d.weekday() < 5]
    if weekdays:
        problems.append(Problem("JB-1", _("A make-up working day (调休) is a Saturday or Sunday; these are not: "
                                          "%(dates)s.") % {"dates": dates(weekdays)}, "working_days"))
    festive = [d for d in on if d in statutory]
    if festive:
        problems.append(Problem("JB-1", _("A statutory holiday cannot be a working day: %(dates)s.")
                                % {"dates": dates(festive)}, "working_days"))
    if problems:
        raise RuleViolation.many(problems)
    existing = {row.date: row for row in CalendarDay.objects.select_for_update().filter(date__in=[*off, *on])}
    for day, working in [*((d, False) for d in off), *((d, True) for d in on)]:
        name = statutory.get(day, "") if not working else "调休"
        row = existing.get(day)
        if row is None:
            row = CalendarDay.objects.create(date=day, is_working_day=working, name=name or "放假")
            audit(actor=user, action=AuditEvent.Action.CREATE, instance=row, organisation=user.organisation,
                  summary=i18n_text.gettext_lazy("JB-1 notice %(year)s: %(day)s") % {"year": year, "day": day})
        elif row.is_working_day != working:
            before = snapshot(row)
            row.is_working_day = working
            row.name = name or row.name
            row.save(update_fields=["is_working_day", "name"])
            audit(actor=user, action=AuditEvent.Action.UPDATE, instance=row, organisation=user.organisation,
                  before=before, summary=i18n_text.gettext_lazy("JB-1 notice %(year)s: %(day)s") % {"year": year, "day": day})
    record, created = CalendarYear.objects.select_for_update().get_or_create(
        year=year, defaults={"holidays_entered": True, "note": note[:200]})
    before = None if created else snapshot(record)
    if not created:
        record.holidays_entered, record.note = True, note[:200] or record.note
        record.save(update_fields=["holidays_entered", "note"])
    audit(actor=user, action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE, instance=record,
          organisation=user.organisation, before=before,
          summary=i18n_text.gettext_lazy("JB-1 notice %(year)s: %(off)s days off, %(on)s make-up working days")
          % {"year": year, "off": len(off), "on": len(on)})
    calendar_confirmed.send(sender=CalendarYear, years=[year])
    return record


# --- two-factor sign-in (core.twofactor) ----------------------------------------------------------


def two_factor_pending_device(*, user: User):
    """The person's device being set up (unconfirmed, with a fresh random key), made on first ask.
    It signs nothing in until confirmed with a code, so it has no audit row of its own."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def two_factor_confirm(*, user: User, device, token: str) -> bool:
    """Turn two-factor sign-in on with ``device`` once a code from it matches; False when the code
    is wrong (or tried too often). Other unconfirmed devices of the person are removed. The key is
    secret, so the audit row names the device only."""
    if device.user_id != user.pk or device.confirmed:
        raise PermissionDenied
    with transaction.atomic():
        if not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        type(device).objects.filter(user=user, confirmed=False).delete()
        audit(actor=user, action=AuditEvent.Action.CREATE, instance=device, organisation=user.organisation,
              after={"user": user.get_username(), "name": device.name, "confirmed": True},
              summary=i18n_text.gettext_lazy("Two-factor sign-in turned on for %(user)s") % {"user": user.get_username()})
    return True
