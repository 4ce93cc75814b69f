"""Organisations in a region tree, their people and roles, and API tokens for their systems."""
from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.validators import validate_credit_code


class Region(models.Model):
    """Administrative region: province → city → county (行政区划)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(_("division code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path ("/23/2327/232701/") so a jurisdiction is one indexed prefix filter.
    path = models.CharField(max_length=255, editable=False, db_index=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        prefix = self.parent.path if self.parent_id else "/"
        self.path = f"{prefix}{self.code}/"
        super().save(*args, **kwargs)


class Organisation(models.Model):
    """Every party in the system (see the spec README's table of organisation kinds)."""

    class Kind(models.TextChoices):
        AUTHORITY = "authority", _("Authority")
        POOL_REVIEWER = "pool_reviewer", _("Pool reviewer")
        POOL_TREASURER = "pool_treasurer", _("Pool treasurer")
        BANK = "bank", _("Bank")
        GUARANTEE_FIRM = "guarantee_firm", _("Guarantee firm")
        REGUARANTEE_FIRM = "reguarantee_firm", _("Re-guarantee firm")
        NATIONAL_FUND = "national_fund", _("National fund")
        SUPERVISOR = "supervisor", _("Supervisor")
        FINANCE_BUREAU = "finance_bureau", _("Finance bureau")  # 监管执行部门 of a pool (RP-16 8c)

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations", verbose_name=_("region"))
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supervised",
        verbose_name=_("supervising body"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # GB 32100 codes are case-insensitive as typed; store one spelling so "unique" means unique.
        self.credit_code = (self.credit_code or "").strip().upper()
        super().save(*args, **kwargs)


class Role(models.Model):
    """A role a person can hold; the codes are fixed, the rows exist so roles can be granted in the admin."""

    class Code(models.TextChoices):
        AUTHORITY_ADMIN = "authority_admin", _("Authority administrator")
        AUTHORITY_REVIEWER = "authority_reviewer", _("Authority reviewer")
        POOL_REVIEWER = "pool_reviewer", _("Pool reviewer")
        POOL_TREASURER = "pool_treasurer", _("Pool treasurer")
        BANK_OPERATOR = "bank_operator", _("Bank operator")
        FIRM_OPERATOR = "firm_operator", _("Guarantee-firm operator")
        COUNTY_SUPERVISOR = "county_supervisor", _("County supervisor")
        CITY_SUPERVISOR = "city_supervisor", _("City supervisor")
        PROVINCE_SUPERVISOR = "province_supervisor", _("Province supervisor")
        FINANCE_APPROVER = "finance_approver", _("Finance-bureau approver")

    code = models.CharField(max_length=30, choices=Code.choices, unique=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.get_code_display()


class User(AbstractUser):
    """A person. Belongs to exactly one organisation (a Django superuser may have none)."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="people",
        verbose_name=_("organisation"),
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("roles"))
    # The language the person last chose in the switch; e-mails to them are written in it (blank:
    # the site's default, Chinese).
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def role_codes(self) -> frozenset[str]:
        # Cached per instance: templates and permission checks ask many times per request.
        if not hasattr(self, "_role_codes"):
            self._role_codes = frozenset(self.roles.values_list("code", flat=True)) if self.pk else frozenset()
        return self._role_codes

    def has_role(self, *codes: str) -> bool:
        return self.is_superuser or bool(self.role_codes() & set(codes))


class ApiToken(models.Model):
    """A per-organisation key for a bank's or firm's own system. Only a hash is stored."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens",
        help_text=_("The account the system acts as; it must belong to the organisation."),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def new_key(cls) -> tuple[str, str]:
        """Return (prefix, full key). The full key is shown once and never stored."""
        prefix = secrets.token_hex(6)
        return prefix, f"{prefix}.{secrets.token_urlsafe(32)}"

    def assign_new_key(self) -> str:
        """Give this token a fresh key; returns the full key, of which only the hash is kept."""
        self.prefix, key = self.new_key()
        self.key_hash = self.hash_key(key)
        return key
