"""Who is a party of a risk compensation pool, and which of the pool's rows each party sees
(RP-25, 深工信规〔2024〕5号 第十条; 马政办〔2024〕6号 for Scheme M).

This module is the one place that decides it; every selector, page, API endpoint and export of
``riskpool`` scopes its rows through the functions below.

| who                                   | sees                                                     |
| ------------------------------------- | -------------------------------------------------------- |
| a bank (Scheme S)                     | its own loan projects and their claims                   |
| a guarantee firm (Scheme M)           | its own reimbursement claims                             |
| the pool's reviewer or treasurer      | every row of that pool                                   |
| the pool's authority                  | every row of that pool, and of the pools whose authority  |
|                                       | lies in its jurisdiction (a province's authority)        |
| the pool's finance bureau (监管执行部门) | the pool's write-off closures (RP-16 8c), from the        |
|                                       | bank's application to the closed claim; nothing else     |
| a supervisor, any other organisation  | no row of any pool                                       |

A supervisor's jurisdiction covers guarantees, evaluation and the audit trail, but the seed
lists the pool's parties exhaustively (only the bank, the reviewer, the treasurer and the
authority may hold a borrower's data), so jurisdiction alone opens no pool row. A row the user
may not see answers 404 through the selectors, like a missing one.
"""
from __future__ import annotations

from enum import StrEnum

from django.db.models import Q

from core.models import Organisation
from core.scoping import org_filter, sees_everything
from riskpool.models import Pool

NOTHING = Q(pk__in=[])

# Kinds of organisation that can take part in a Scheme S pool (its API refuses any other kind,
# a supervisor or a guarantee firm, before looking at a row).
S_PARTY_KINDS = (
    Organisation.Kind.BANK, Organisation.Kind.POOL_REVIEWER, Organisation.Kind.POOL_TREASURER,
    Organisation.Kind.AUTHORITY,
)


# The kinds of organisation that own pool rows: a member bank its loans and claims, a Scheme M
# guarantee firm its claims.
OWNER_KINDS = (Organisation.Kind.BANK, Organisation.Kind.GUARANTEE_FIRM)


class Party(StrEnum):
    """The part an organisation plays in one pool."""

    AUTHORITY = "authority"
    REVIEWER = "reviewer"
    TREASURER = "treasurer"
    FINANCE_BUREAU = "finance_bureau"  # 监管执行部门: the pool's write-off closures only (RP-16 8c)
    BANK = "bank"  # a member bank: its own rows only
    FIRM = "firm"  # a Scheme M guarantee firm: its own rows only


def _org(user) -> Organisation | None:
    if not user.is_authenticated or user.organisation_id is None:
        return None
    return user.organisation


def pools_q(user, prefix: str = "") -> Q:
    """The pools (reached through ``prefix``, e.g. ``"pool__"``) the user oversees as their
    authority, reviewer or treasurer: a Q that sees every row of such a pool."""
    if user.is_authenticated and sees_everything(user):
        return Q()
    org = _org(user)
    if org is None:
        return NOTHING
    return (Q(**{f"{prefix}reviewer_id": org.pk}) | Q(**{f"{prefix}treasurer_id": org.pk})
            | authority_pools_q(user, prefix))


def authority_pools_q(user, prefix: str = "") -> Q:
    """The pools (through ``prefix``) the user's organisation oversees as their authority: its
    own, and those whose authority lies in its region (one subquery). Nothing for any other kind
    of organisation, a supervisor included."""
    if user.is_authenticated and sees_everything(user):
        return Q()
    org = _org(user)
    if org is None or org.kind != Organisation.Kind.AUTHORITY:
        return NOTHING
    return Q(**{f"{prefix}authority_id": org.pk}) | org_filter(user, f"{prefix}authority")


def rows_q(user, *, owner: str, pool: str) -> Q:
    """RP-25: the rows whose ``owner`` (the bank or firm field, e.g. ``"bank"``) is the user's
    organisation, or whose pool (through ``pool``, e.g. ``"pool__"``) the user oversees.

    Each side is filtered by one indexed column (issue 12): an OR of the owner column with a
    join to the pool table cannot use an index of the row table, so at a million loans the list
    and its count read every row. Only a bank or a guarantee firm owns rows, so only they get
    the owner column; the pools overseen are looked up first (one small query) and the rows
    filtered by their ids."""
    if user.is_authenticated and sees_everything(user):
        return Q()
    org = _org(user)
    if org is None:
        return NOTHING
    own = Q(**{f"{owner}_id": org.pk}) if org.kind in OWNER_KINDS else NOTHING
    pool_ids = list(Pool.objects.filter(pools_q(user)).order_by().values_list("pk", flat=True))
    if not pool_ids:
        return own
    overseen = Q(**{f"{pool}id__in": pool_ids})
    return overseen if own is NOTHING else own | overseen


def project_q(user) -> Q:
    """Scheme S loan projects (LoanProject) the user may see."""
    return rows_q(user, owner="bank", pool="pool__")


# RP-16 8c: the claim states in which a pool's finance bureau sees a claim (a write-off closure
# from the bank's application on; a closed one only when it was closed by write-off).
FINANCE_BUREAU_STATES = ("closure_requested", "closure_reviewed", "closure_rechecked", "closure_approved")


def claim_q(user) -> Q:
    """Scheme S claims (Claim) the user may see; a finance bureau, its pools' write-off closures."""
    org = _org(user)
    if org is not None and org.kind == Organisation.Kind.FINANCE_BUREAU and not sees_everything(user):
        closed = Q(state="closed", project__closed_reason="write_off")
        return Q(pool__finance_bureau_id=org.pk) & (Q(state__in=FINANCE_BUREAU_STATES) | closed)
    return rows_q(user, owner="project__bank", pool="pool__")


def m_claim_q(user) -> Q:
    """Scheme M claims (MClaim) the user may see."""
    return rows_q(user, owner="firm", pool="product__pool__")


def party_of(user, pool) -> set[Party]:
    """The parts the user's organisation plays in ``pool`` (an empty set: none, so no row of the
    pool). A bank or firm counts only as a member, for its own rows."""
    org = _org(user)
    if org is None:
        return set()
    parts: set[Party] = set()
    if pool.reviewer_id == org.pk:
        parts.add(Party.REVIEWER)
    if pool.treasurer_id == org.pk:
        parts.add(Party.TREASURER)
    if pool.finance_bureau_id == org.pk:
        parts.add(Party.FINANCE_BUREAU)
    if org.kind == Organisation.Kind.AUTHORITY and oversees_as_authority(user, pool):
        parts.add(Party.AUTHORITY)
    if org.kind == Organisation.Kind.BANK and pool.members.filter(organisation_id=org.pk).exists():
        parts.add(Party.BANK)
    if org.kind == Organisation.Kind.GUARANTEE_FIRM and pool.scheme == Pool.Scheme.M:
        parts.add(Party.FIRM)
    return parts


def oversees_as_authority(user, pool) -> bool:
    """The user's authority is the pool's, or the pool's authority lies in its jurisdiction."""
    org = _org(user)
    if org is None or org.kind != Organisation.Kind.AUTHORITY:
        return False
    if pool.authority_id == org.pk:
        return True
    return Pool.objects.filter(org_filter(user, "authority"), pk=pool.pk).exists()


def oversees(user, pool) -> bool:
    """The user sees every row of ``pool``: its authority, reviewer or treasurer (or a superuser)."""
    if not user.is_authenticated:
        return False
    if sees_everything(user):
        return True
    return bool(party_of(user, pool) & {Party.AUTHORITY, Party.REVIEWER, Party.TREASURER})
