"""Batch jobs of the guarantees app (found by core.jobs through autodiscovery)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.jobs import JobSpec, NthWorkingDay, register
from core.models import Organisation
from core.periods import period_bounds, previous_quarter
from core.rulesets import rule_params
from guarantees.models import FirmIndicatorSnapshot
from guarantees.rules import GuaranteeParams
from guarantees.selectors_indicators import firm_indicator_rows

CHUNK = 1000  # JB-15: firms per set-based pass


@register(
    JobSpec(
        id="JB-5",
        name=_("Quarterly close and indicator snapshot"),
        schedule=NthWorkingDay(16, hour=2),
        period_for=previous_quarter,
    )
)
def snapshot_quarter(run, period: str, progress) -> dict:
    """JB-5, guarantees part: every guarantee firm's GU-6 … GU-9 indicators for the quarter
    ``period`` ("2025Q1", closed on the 16th working day of 2025Q2), as FirmIndicatorSnapshot.

    JB-12: the period's rows are replaced, never added to; core.jobs.job_run runs this in one
    transaction, so the delete and the new rows commit together or not at all (JB-14). The
    rule set is the one in force on the quarter's last day.
    """
    _kind, start, end = period_bounds(period)
    params = GuaranteeParams.from_mapping(rule_params("guarantees", end))
    firm_ids = list(
        Organisation.objects.filter(kind=Organisation.Kind.GUARANTEE_FIRM).order_by("pk").values_list("pk", flat=True)
    )
    total = len(firm_ids)
    replaced, _by_model = FirmIndicatorSnapshot.objects.filter(period=period).delete()
    written = 0
    progress(0, total)
    for offset in range(0, total, CHUNK):
        chunk = firm_ids[offset : offset + CHUNK]
        firms = Organisation.objects.filter(
            kind=Organisation.Kind.GUARANTEE_FIRM, pk__gte=chunk[0], pk__lte=chunk[-1]
        )
        rows = firm_indicator_rows(firms=firms, period_start=start, period_end=end, params=params)
        written += len(rows)
        FirmIndicatorSnapshot.objects.bulk_create(
            [
                FirmIndicatorSnapshot(
                    firm_id=row.firm_id,
                    period=period,
                    as_of=end,
                    balance=row.balance,
                    net_assets=row.net_assets,
                    leverage=row.leverage,
                    written_amount=row.written_amount,
                    avg_fee_rate=row.avg_fee_rate,
                    support_share=row.support_share,
                    small_amount_share=row.small_amount_share,
                    compensation_paid=row.compensation_paid,
                    released_amount=row.released_amount,
                    compensation_rate=row.compensation_rate,
                    overdue_compensations=row.overdue_compensations,
                    job_run=run,
                )
                for row in rows
            ]
        )
        progress(offset + len(chunk), total)
    return {"firms": total, "snapshots": written, "replaced": replaced}
