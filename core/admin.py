"""Configuration screens for the authority's administrators.

Every write made here is audited (``AuditedAdminMixin``): rule sets, the calendar and the rates
drive money decisions, so who changed what, and from what, must be on record.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import i18n_text, services
from core.audit import audit, snapshot
from core.errors import RuleViolation
from core.models import (
    ApiToken,
    AuditEvent,
    CalendarDay,
    CalendarYear,
    ExchangeRate,
    LprRate,
    Organisation,
    Region,
    Role,
    RuleSet,
    User,
)
from core.ruleset_families import typed_rows


class AuditedAdminMixin:
    """Appends an audit row, with the row before and after, for every admin create, change and delete."""

    # Attribute names left out of the audit trail (secrets, hashes).
    audit_exclude: tuple[str, ...] = ()

    def audit_snapshot(self, obj) -> dict:
        data = snapshot(obj)
        for field in obj._meta.many_to_many:
            data[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
        for name in self.audit_exclude:
            data.pop(name, None)
        return data

    def audit_organisation(self, obj):
        if isinstance(obj, Organisation):
            return obj
        return getattr(obj, "organisation", None)

    def save_model(self, request, obj, form, change):
        # Read "before" from the database: the form has already changed ``obj`` in memory.
        obj._audit_before = self.audit_snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Audited here rather than in save_model, so many-to-many changes (a user's roles) are in "after".
        super().save_related(request, form, formsets, change)
        obj = form.instance
        self._audit(request, obj, AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
                    before=getattr(obj, "_audit_before", None), after=self.audit_snapshot(obj))

    def delete_model(self, request, obj):
        self._audit_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk "delete selected" action is not wrapped in a transaction by the admin.
        with transaction.atomic():
            for obj in queryset:
                self._audit_delete(request, obj)
            super().delete_queryset(request, queryset)

    def _audit_delete(self, request, obj):
        # Written before the delete, while the row still has its primary key.
        organisation = self.audit_organisation(obj)
        if isinstance(obj, Organisation):
            organisation = None  # the row is going away; its id stays in "before"
        self._audit(request, obj, AuditEvent.Action.DELETE, before=self.audit_snapshot(obj), after=None,
                    organisation=organisation)

    def _audit(self, request, obj, action, *, before, after, organisation=None):
        audit(
            actor=request.user, action=action, instance=obj, before=before, after=after,
            organisation=organisation if organisation is not None else self.audit_organisation(obj),
            summary=i18n_text.gettext_lazy("Admin: %(object)s") % {"object": obj},
        )


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


# -- Organisations and people -----------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason (kept in the audit trail)"), max_length=200,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class ActivationActionsMixin:
    """"Deactivate" and "Reactivate" actions, each through a confirmation page asking the reason.

    They call the audited services (core.services); ``is_active`` is read-only on the change
    form so that no other path flips it.
    """

    deactivate_service = reactivate_service = None  # set by each admin: service(actor=, <object>=, reason=)
    deactivate_explanation = reactivate_explanation = ""

    def has_activation_permission(self, request) -> bool:
        # The services check the jurisdiction of each row again.
        return request.user.is_superuser or request.user.has_role("authority_admin")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "is_active") if obj is not None else fields

    @admin.action(description=gettext_lazy("Deactivate selected (lock out at once)"), permissions=["activation"])
    def deactivate(self, request, queryset):
        return self._activation(request, queryset, active=False)

    @admin.action(description=gettext_lazy("Reactivate selected"), permissions=["activation"])
    def reactivate(self, request, queryset):
        return self._activation(request, queryset, active=True)

    def _activation(self, request, queryset, *, active: bool):
        action = "reactivate" if active else "deactivate"
        todo = list(queryset.filter(is_active=not active))
        skipped = [str(obj) for obj in queryset.filter(is_active=active)]
        if not todo:
            messages.warning(request, _("Nothing to do: every selected row is already in that state."))
            return None
        form = ReasonForm(request.POST if request.POST.get("post") == "yes" else None)
        form.fields["reason"].required = not active
        if form.is_bound and form.is_valid():
            service = self.reactivate_service if active else self.deactivate_service
            done = 0
            for obj in todo:
                try:
                    service(actor=request.user, reason=form.cleaned_data["reason"], **{self.opts.model_name: obj})
                except (RuleViolation, PermissionDenied) as error:
                    messages.error(request, f"{obj}: {getattr(error, 'message', error)}")
                else:
                    done += 1
            if done:
                messages.success(request, (_("%(count)d reactivated.") if active else _("%(count)d deactivated."))
                                 % {"count": done})
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reactivate") if active else _("Deactivate"),
            "explanation": self.reactivate_explanation if active else self.deactivate_explanation,
            "queryset": todo,
            "skipped": skipped,
            "form": form,
            "action": action,
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/core/activation_confirm.html", context)


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)


@admin.register(Organisation)
class OrganisationAdmin(ActivationActionsMixin, AuditedModelAdmin):
    list_display = ("name", "kind", "credit_code", "region", "is_active")
    list_filter = ("kind", "region", "is_active")
    search_fields = ("name", "credit_code")
    autocomplete_fields = ("region", "supervisor")
    actions = ("deactivate", "reactivate")
    deactivate_service = staticmethod(services.organisation_deactivate)
    reactivate_service = staticmethod(services.organisation_reactivate)
    deactivate_explanation = gettext_lazy(
        "Every person of these organisations is signed out on their next request and cannot sign in; their API "
        "tokens are refused. Nothing of theirs is deleted: their pending work stays as it is, visible to the "
        "authority, and is theirs again when they are reactivated.")
    reactivate_explanation = gettext_lazy("The people and API tokens of these organisations can sign in again.")

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: audit events point at organisations, and the append-only trigger
        # refuses the SET NULL a delete would cause on PostgreSQL.
        return False


@admin.register(User)
class UserAdmin(ActivationActionsMixin, AuditedAdminMixin, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (gettext_lazy("Organisation and roles"), {"fields": ("organisation", "roles")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (gettext_lazy("Organisation and roles"), {"fields": ("organisation", "roles")}),
    )
    list_display = ("username", "email", "organisation", "is_active", "is_staff", "is_superuser")
    list_filter = ("is_active", "is_staff", "is_superuser", "organisation__kind", "roles")
    search_fields = ("username", "email", "first_name", "last_name", "organisation__name")
    autocomplete_fields = ("organisation",)
    filter_horizontal = ("roles", "groups", "user_permissions")
    audit_exclude = ("password",)
    actions = ("deactivate", "reactivate")
    deactivate_service = staticmethod(services.user_deactivate)
    reactivate_service = staticmethod(services.user_reactivate)
    deactivate_explanation = gettext_lazy(
        "These people are signed out on their next request and cannot sign in; API tokens acting as them are "
        "refused. Everything they did stays as it is.")
    reactivate_explanation = gettext_lazy("These people can sign in again.")

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead (is_active): audit events name their actor (see OrganisationAdmin).
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows nobody edits here: fixed codes, or the append-only audit trail."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    """The role codes are fixed (migration 0002); roles are granted on the user's page."""

    list_display = ("code", "__str__")



class ApiTokenAdminForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("organisation", "user", "name", "revoked_at")

    def clean(self):
        cleaned = super().clean()
        organisation, user = cleaned.get("organisation"), cleaned.get("user")
        if organisation and user and user.organisation_id != organisation.pk:
            self.add_error("user", _("The account must belong to the token's organisation."))
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    form = ApiTokenAdminForm
    list_display = ("name", "prefix", "organisation", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organisation__kind", "revoked_at")
    search_fields = ("name", "prefix", "organisation__name", "user__username")
    autocomplete_fields = ("organisation", "user")
    actions = ("revoke",)
    audit_exclude = ("key_hash",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organisation", "user", "name")
        return ("organisation", "user", "name", "prefix", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        # A token's owner never changes; to move it, revoke it and issue a new one.
        if obj is None:
            return ()
        return ("organisation", "user", "prefix", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        key = None
        if not change:
            key = obj.assign_new_key()
        super().save_model(request, obj, form, change)
        if key:
            # The only time the key exists outside its owner's system: only the hash is stored.
            messages.success(
                request,
                _("API key for “%(name)s”: %(key)s — copy it now, it will not be shown again.")
                % {"name": obj.name, "key": key},
            )

    @admin.action(description=gettext_lazy("Revoke selected tokens"))
    def revoke(self, request, queryset):
        now = timezone.now()
        with transaction.atomic():
            for token in queryset.select_for_update().filter(revoked_at__isnull=True):
                before = self.audit_snapshot(token)
                token.revoked_at = now
                token.save(update_fields=["revoked_at"])
                self._audit(request, token, AuditEvent.Action.UPDATE, before=before, after=self.audit_snapshot(token))


# -- Audit trail ------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the trail is append-only (the model and, on PostgreSQL, a trigger refuse changes)."""

    list_display = ("at", "actor_text", "action", "object_type", "object_id", "organisation", "summary_text")
    list_filter = ("action", "object_type", "organisation__kind")
    search_fields = ("actor_label", "object_id", "summary")
    date_hierarchy = "at"
    list_select_related = ("organisation",)

    @admin.display(description=gettext_lazy("actor"))
    def actor_text(self, event):
        from core.audit_display import actor_text

        return actor_text(event.actor_label)

    @admin.display(description=gettext_lazy("summary"))
    def summary_text(self, event):
        from core.audit_display import summary_text

        return summary_text(event.summary)



# -- Rule sets, calendar, rates ---------------------------------------------------------------


class RuleSetAdminForm(forms.ModelForm):
    """Name, dates and note only: the parameters are edited with the typed forms of the rule-set
    pages (/rulesets/…), never as raw JSON (issue 13 point 7)."""

    class Meta:
        model = RuleSet
        fields = ("name", "effective_from", "effective_to", "note")

    def _post_clean(self):
        # RuleSet.clean() compares and queries the dates; with a date missing or invalid it would
        # crash rather than report, and the form already shows the field's own error.
        if {"effective_from", "effective_to"} & set(self.errors):
            return
        super()._post_clean()  # runs the model's clean(): refuses overlapping ranges


@admin.register(RuleSet)
class RuleSetAdmin(AuditedModelAdmin):
    """The parameters are shown as the rule-set pages show them, with a link to their typed editor;
    a new version is made there too (it ends the version in force the day before)."""

    form = RuleSetAdminForm
    fields = ("scheme", "name", "effective_from", "effective_to", "note", "typed_parameters")
    readonly_fields = ("scheme", "typed_parameters")
    list_display = ("scheme", "name", "effective_from", "effective_to", "updated_at", "editor_link")
    list_filter = ("scheme",)
    search_fields = ("name", "note")
    date_hierarchy = "effective_from"

    def has_add_permission(self, request):
        return False  # a new version: /rulesets/<pk>/new-version/

    @admin.display(description=gettext_lazy("parameters"))
    def typed_parameters(self, obj):
        rows = format_html_join("", "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>", (
            (row["label"], row["rule"], linebreaksbr(row["value"])) for row in typed_rows(obj.scheme, obj.params)))
        return format_html(
            '<p><a href="{}">{}</a> · <a href="{}">{}</a></p><table><caption>{}</caption><thead><tr>'
            '<th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
            reverse("rulesets:edit", args=[obj.pk]), _("Edit the parameters with the typed form"),
            reverse("rulesets:new-version", args=[obj.pk]), _("Add a new version"),
            _("Parameters"), _("Parameter"), _("Rule"), _("Value"), rows)

    @admin.display(description=gettext_lazy("parameters"))
    def editor_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("rulesets:detail", args=[obj.pk]),
                           _("View and edit on the rule-set page"))


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedModelAdmin):
    list_display = ("date", "is_working_day", "name")
    list_filter = ("is_working_day",)
    search_fields = ("name",)
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(AuditedModelAdmin):
    list_display = ("year", "holidays_entered", "note")
    list_filter = ("holidays_entered",)


@admin.register(LprRate)
class LprRateAdmin(AuditedModelAdmin):
    list_display = ("effective_on", "term", "rate_percent")
    list_filter = ("term",)
    date_hierarchy = "effective_on"


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedModelAdmin):
    list_display = ("on", "currency", "kind", "unit", "rate")
    list_filter = ("currency", "kind")
    search_fields = ("currency",)
    date_hierarchy = "on"
