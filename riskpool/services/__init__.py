"""Writes of the risk compensation pool: one function per business action, each in a transaction
with an audit row. The policy decisions are in riskpool.rules; this module applies them.

The modules follow the seams of the work: ``common`` (roles, limits, the rule set in force),
``ledger`` (RP-1 money), ``claim_state`` (the one way a claim changes state), ``members``
(RP-15 gate, RP-22/24), ``projects`` (entry, classification, RP-12 special list), ``claims``
(RP-16 up to payment), ``claims_after_payment`` (library, returns, closure) and ``violations``
(RP-21). Scheme M writes are in ``riskpool.services_m``, reports in ``riskpool.services_reports``.
Callers use the package (``services.claim_submit(...)``), which re-exports them all.
"""


from riskpool.permissions import AUTHORITY_ROLES, BANK_ROLES, FINANCE_ROLES, REVIEWER_ROLES, TREASURER_ROLES

from .claim_state import (
    APPLICATION_STATES,
)
from .claims import (
    claim_documents_upload,
    claim_notice_close,
    claim_notice_start,
    claim_pay,
    claim_request_re_review,
    claim_review,
    claim_submit,
    claims_recompute_deadlines,
    funding_plan_issue,
    notice_is_over,
    notice_last_day,
    objection_decide,
    objection_file,
    objections_block_closing,
)
from .claims_after_payment import (
    claim_close,
    claim_closure_finance_decide,
    claim_closure_recheck,
    claim_closure_request,
    claim_closure_review,
    claim_disposal_complete,
    claim_settlement_decide,
    claim_settlement_request,
    claim_to_compensation_library,
    claim_upgrade_decide,
    claim_upgrade_request,
    claim_withdraw,
    recovery_nil_report,
    recovery_report,
)
from .common import ALLOWED_CONTENT_TYPES, LP, MAX_DOCUMENT_BYTES, PAYMENT_DOCUMENTS, lpr_rates, scheme_s_params
from .ledger import (
    INFLOWS,
    OUTFLOWS,
    ledger_post,
    pool_budget_add,
)
from .members import (
    NPL_CHUNK,
    current_rule_set_range,
    member_add,
    member_readmit,
    member_refresh_npl,
    member_set_dishonest,
    members_refresh_npl,
    npl_gates_refresh,
)
from .projects import (
    RATIO_PLACES,
    SPECIAL_LIST_ROLES,
    ProjectData,
    project_bulk_register,
    project_classify,
    project_close_repaid,
    project_register,
    project_register_late,
    special_list_add,
    special_list_check,
    special_list_end,
    special_ratio,
)
from .violations import (
    ClawbackLine,
    ClawbackPreview,
    lpr_segments,
    violation_preview,
    violation_record,
)

__all__ = [
    "ALLOWED_CONTENT_TYPES",
    "APPLICATION_STATES",
    "AUTHORITY_ROLES",
    "BANK_ROLES",
    "ClawbackLine",
    "ClawbackPreview",
    "FINANCE_ROLES",
    "INFLOWS",
    "LP",
    "MAX_DOCUMENT_BYTES",
    "NPL_CHUNK",
    "OUTFLOWS",
    "PAYMENT_DOCUMENTS",
    "ProjectData",
    "RATIO_PLACES",
    "REVIEWER_ROLES",
    "SPECIAL_LIST_ROLES",
    "TREASURER_ROLES",
    "claim_close",
    "claim_closure_finance_decide",
    "claim_closure_recheck",
    "claim_closure_request",
    "claim_closure_review",
    "claim_disposal_complete",
    "claim_documents_upload",
    "claim_notice_close",
    "claim_notice_start",
    "claim_pay",
    "claim_request_re_review",
    "claim_review",
    "claim_settlement_decide",
    "claim_settlement_request",
    "claim_submit",
    "claim_to_compensation_library",
    "claim_upgrade_decide",
    "claim_upgrade_request",
    "claim_withdraw",
    "claims_recompute_deadlines",
    "current_rule_set_range",
    "funding_plan_issue",
    "ledger_post",
    "lpr_rates",
    "lpr_segments",
    "member_add",
    "member_readmit",
    "member_refresh_npl",
    "member_set_dishonest",
    "members_refresh_npl",
    "notice_is_over",
    "notice_last_day",
    "npl_gates_refresh",
    "objection_decide",
    "objection_file",
    "objections_block_closing",
    "pool_budget_add",
    "project_bulk_register",
    "project_classify",
    "project_close_repaid",
    "project_register",
    "project_register_late",
    "recovery_nil_report",
    "recovery_report",
    "scheme_s_params",
    "special_list_add",
    "special_list_check",
    "special_list_end",
    "special_ratio",
    "violation_preview",
    "violation_record",
]
