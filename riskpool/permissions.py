"""Who may act in the risk compensation pool: the roles of each party and the predicates the
claim workflow (riskpool.workflows) and the pages use. A role predicate takes the user; a claim
predicate takes ``(user, claim)`` and says whether the user is that claim's party in that role
(the claim's own bank, or the reviewer, treasurer, authority or finance bureau of its pool). A
superuser may act as any party, as ``core.services.require_member`` lets it.

Which rows a party sees is riskpool.access; this module only says who may take a step.
"""
from __future__ import annotations

from core.models import Organisation

K = Organisation.Kind

AUTHORITY_ROLES = ("authority_admin", "authority_reviewer")
BANK_ROLES = ("bank_operator",)
REVIEWER_ROLES = ("pool_reviewer",)
TREASURER_ROLES = ("pool_treasurer",)
FINANCE_ROLES = ("finance_approver",)
FIRM_ROLES = ("firm_operator",)  # Scheme M: the guarantee firm claims


def _kind(user):
    return user.organisation.kind if user.is_authenticated and user.organisation_id else None


def is_bank_operator(user) -> bool:
    return _kind(user) == K.BANK and user.has_role(*BANK_ROLES)


def is_reviewer(user) -> bool:
    return _kind(user) == K.POOL_REVIEWER and user.has_role(*REVIEWER_ROLES)


def is_treasurer(user) -> bool:
    return _kind(user) == K.POOL_TREASURER and user.has_role(*TREASURER_ROLES)


def is_authority(user) -> bool:
    return _kind(user) == K.AUTHORITY and user.has_role(*AUTHORITY_ROLES)


def is_finance_bureau(user) -> bool:
    return _kind(user) == K.FINANCE_BUREAU and user.has_role(*FINANCE_ROLES)


def is_firm_operator(user) -> bool:
    return _kind(user) == K.GUARANTEE_FIRM and user.has_role(*FIRM_ROLES)


def is_pool_party(user) -> bool:
    return is_bank_operator(user) or is_reviewer(user) or is_treasurer(user) or is_authority(user)


def is_pool_office(user) -> bool:
    """The pool's own side, banks apart: the reviewer, the treasurer or the authority (the Scheme
    M desks, the pool's reports)."""
    return is_reviewer(user) or is_treasurer(user) or is_authority(user)


def in_finance_bureau(user) -> bool:
    """Anyone of the finance bureau, whatever the role: who may read its RP-16 8c list."""
    return _kind(user) == K.FINANCE_BUREAU


# --- the parties of one claim (RP-16) ----------------------------------------------------------


def claim_bank(user, claim) -> bool:
    """The claim's own bank (its operator)."""
    return user.is_superuser or (is_bank_operator(user) and user.organisation_id == claim.project.bank_id)


def claim_reviewer(user, claim) -> bool:
    """The pool reviewer of the claim's pool."""
    return user.is_superuser or (is_reviewer(user) and user.organisation_id == claim.project.pool.reviewer_id)


def claim_treasurer(user, claim) -> bool:
    """The treasurer of the claim's pool."""
    return user.is_superuser or (is_treasurer(user) and user.organisation_id == claim.project.pool.treasurer_id)


def claim_authority(user, claim) -> bool:
    """The authority (主管部门) of the claim's pool."""
    return user.is_superuser or (is_authority(user) and user.organisation_id == claim.project.pool.authority_id)


def claim_finance_bureau(user, claim) -> bool:
    """The finance bureau (监管执行部门) of the claim's pool (RP-16 8c)."""
    return user.is_superuser or (is_finance_bureau(user)
                                 and user.organisation_id == claim.project.pool.finance_bureau_id)


def system(user, claim) -> bool:
    """A step no person takes on the claim's page: the RP-15 gate holds and releases claims."""
    return False


# --- the parties of one Scheme M claim (RP-M4, RP-M5) -------------------------------------------


def m_claim_firm(user, m_claim) -> bool:
    """The guarantee firm that made the Scheme M claim."""
    return user.is_superuser or (is_firm_operator(user) and user.organisation_id == m_claim.firm_id)


def m_claim_reviewer(user, m_claim) -> bool:
    """The reviewer of the pool of the claim's product."""
    return user.is_superuser or (is_reviewer(user) and user.organisation_id == m_claim.product.pool.reviewer_id)


def m_claim_treasurer(user, m_claim) -> bool:
    """The treasurer of the pool of the claim's product."""
    return user.is_superuser or (is_treasurer(user) and user.organisation_id == m_claim.product.pool.treasurer_id)


# The claim predicate of each party, by the names the deadline lists use (selectors.STATE_OWNERS).
CLAIM_PARTIES = {
    "bank": claim_bank, "reviewer": claim_reviewer, "treasurer": claim_treasurer,
    "authority": claim_authority, "finance_bureau": claim_finance_bureau,
}
