"""xlsx downloads of the scoring form (EV-4) and the results (EV-6 … EV-8): the same rows as the pages."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exports import MULTIPLE_FORMAT, Workbook


def scoring_form_xlsx(sub, rows: list[dict]) -> HttpResponse:
    wb = Workbook()
    ws = wb.sheet(_("Scoring form"))
    ws.append([_("%(year)s evaluation scoring form: %(firm)s") % {"year": sub.year.year, "firm": sub.firm.name}],
              bold=True)
    ws.append([_("Indicator"), _("Points"), _("Score")])
    for row in rows:
        ws.append([row["label"], row["weight"], row["score"]])
    ws.append([_("Total"), 100, sub.total])
    ws.append([])
    ws.append([_("Figure"), _("Computed"), _("Declared"), _("Differs by more than 1%")])
    for name, computed, declared, flagged in figure_rows(sub):
        ws.append([name, computed, declared, _("yes") if flagged else ""])
    signed = sub.form_signed_at.strftime("%Y-%m-%d %H:%M") if sub.form_signed_at else _("not signed")
    ws.append([])
    ws.append([_("Signed off"), signed, str(sub.form_signed_by or "")])
    return wb.response(f"scoring-form-{sub.year.year}-{sub.firm_id}.xlsx")


FIGURE_LABELS = {
    "guarantee_balance": gettext_lazy("Guarantee balance at year end (融资担保责任余额)"),
    "net_assets": gettext_lazy("Net assets at year end (净资产)"),
    "sme_clients": gettext_lazy("Small-micro and 三农 clients (n)"),
    "sme_amount": gettext_lazy("Small-micro and 三农 amount (a)"),
    "total_amount": gettext_lazy("All guaranteed amount written"),
    "avg_fee_rate": gettext_lazy("Average fee rate of small-micro and 三农 business (f)"),
}


def figure_rows(sub) -> list[tuple[str, str | None, str | None, bool]]:
    """EV-3: (label, computed, declared, differs by more than 1%) per figure."""
    from evaluation.rules import FIGURE_FIELDS

    return [(str(FIGURE_LABELS[name]), _figure(name, sub.computed.get(name)), _figure(name, sub.declared.get(name)),
             name in sub.flagged) for name in FIGURE_FIELDS]


def _figure(name: str, value):
    """A figure as people read it: amounts with thousands separators, rates as percentages."""
    from decimal import Decimal, InvalidOperation

    from core.templatetags.money import money, percent

    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value
    if name.endswith("rate"):
        return percent(number)
    if name.endswith(("amount", "balance", "assets")):
        return money(number)
    return value


def results_xlsx(year, results, regions) -> HttpResponse:
    wb = Workbook()
    ws = wb.sheet(_("Ranking"))
    ws.append([_("%(year)s evaluation results") % {"year": year.year}], bold=True)
    ws.append([_("Rank"), _("Firm"), _("City"), _("Total score"), _("Leverage"), _("Class")])
    for r in results:
        ws.append([r.rank, r.firm.name, r.region.name, r.total, r.leverage, str(r.get_klass_display())],
                  formats={3: MULTIPLE_FORMAT, 4: MULTIPLE_FORMAT})
    ws2 = wb.sheet(_("Regions"))
    ws2.append([_("Rank"), _("City"), _("Mean score"), _("Firms")])
    for r in regions:
        ws2.append([r.rank, r.region.name, r.mean, r.firms], formats={2: MULTIPLE_FORMAT})
    return wb.response(f"evaluation-results-{year.year}.xlsx")
