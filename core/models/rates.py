"""Reference rates: the loan prime rate (RP-7) and exchange rates (RP-5)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LprRate(models.Model):
    """贷款市场报价利率, by effective date and term."""

    class Term(models.TextChoices):
        ONE_YEAR = "1y", _("1 year")
        FIVE_YEARS_PLUS = "5y", _("5 years and over")

    effective_on = models.DateField(_("effective on"))
    term = models.CharField(_("term"), max_length=2, choices=Term.choices)
    rate_percent = models.DecimalField(_("rate (%)"), max_digits=6, decimal_places=4)

    class Meta:
        ordering = ["-effective_on", "term"]
        verbose_name = _("loan prime rate")
        verbose_name_plural = _("loan prime rates")
        constraints = [models.UniqueConstraint(fields=["effective_on", "term"], name="lpr_unique_date_term")]

    def __str__(self) -> str:
        return f"{self.effective_on} {self.term} {self.rate_percent}%"


class ExchangeRate(models.Model):
    """Yuan for ``unit`` units of a currency on a date, of one kind (RP-5 fallback order)."""

    class Kind(models.TextChoices):
        CENTRAL_PARITY = "central_parity", _("CFETS central parity")
        SPOT_BUYING = "spot_buying", _("Bank spot buying rate")
        CASH_BUYING = "cash_buying", _("Bank cash buying rate")

    currency = models.CharField(_("currency"), max_length=3)
    on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    unit = models.PositiveIntegerField(_("unit"), default=1, help_text=_("Quoted per this many units (100 for JPY)."))
    rate = models.DecimalField(_("yuan per unit"), max_digits=14, decimal_places=6)

    class Meta:
        ordering = ["-on", "currency", "kind"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["currency", "on", "kind"], name="fx_unique_currency_date_kind"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="fx_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.currency} {self.kind} {self.rate}/{self.unit}"
