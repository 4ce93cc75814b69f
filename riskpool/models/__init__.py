"""The loan risk compensation pool (spec: riskpool.md). Scheme S reimburses member banks for
non-performing SME loans; Scheme M reimburses guarantee firms for their payouts.

One module per seam: ``pool`` (pool, ledger, members), ``projects``, ``claims`` (the Scheme S
claim and what hangs on it), ``banks`` (violations, special list), ``scheme_m`` and ``reports``.
"""


from .banks import (
    SpecialListEntry,
    Violation,
)
from .claims import (
    Claim,
    ClaimDocument,
    ClaimStep,
    FundingPlan,
    NilRecoveryReport,
    Objection,
    RecoveryReport,
)
from .pool import (
    LedgerEntry,
    Member,
    Pool,
)
from .projects import (
    BankYear,
    BankYearBorrower,
    Classification,
    LoanProject,
)
from .reports import (
    BankEvaluation,
    HalfYearReport,
    MissingRecoveryReport,
    PoolQuarterSnapshot,
    QuarterBankReport,
)
from .scheme_m import (
    MAnnualReport,
    MAnnualReportLine,
    MClaim,
    Product,
    ProductPartySuspension,
)

__all__ = [
    "BankEvaluation",
    "BankYear",
    "BankYearBorrower",
    "Claim",
    "ClaimDocument",
    "ClaimStep",
    "Classification",
    "FundingPlan",
    "HalfYearReport",
    "LedgerEntry",
    "LoanProject",
    "MAnnualReport",
    "MAnnualReportLine",
    "MClaim",
    "Member",
    "MissingRecoveryReport",
    "NilRecoveryReport",
    "Objection",
    "Pool",
    "PoolQuarterSnapshot",
    "Product",
    "ProductPartySuspension",
    "QuarterBankReport",
    "RecoveryReport",
    "SpecialListEntry",
    "Violation",
]
