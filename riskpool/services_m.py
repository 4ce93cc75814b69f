"""Writes of Scheme M (马政办〔2024〕6号, the guarantee compensation fund): product sub-funds
(RP-M2), claims of guarantee firms for what they paid out (RP-M1, RP-M4), payouts within the
sub-fund (RP-M2), returns of recoveries (RP-M5) and product suspension (RP-M3).

One keyword-only function per business action, each in a transaction with an audit row; the
policy arithmetic is in riskpool.rules, money moves only through riskpool.services.ledger_post.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from core import i18n_text
from core.audit import audit, snapshot
from core.calendar import shanghai_today
from core.errors import Conflict, Problem, RuleViolation
from core.i18n_text import render as render_text
from core.models import AuditEvent, RuleSet
from core.money import money
from core.rulesets import rule_params
from core.services import require_member
from guarantees.models import Compensation, FirmYearProfile, Guarantee
from guarantees.rules import compensation_rate
from riskpool import rules
from riskpool.models import (
    LedgerEntry,
    LoanProject,
    MAnnualReport,
    MAnnualReportLine,
    MClaim,
    Pool,
    Product,
    ProductPartySuspension,
)
from riskpool.permissions import AUTHORITY_ROLES, FIRM_ROLES, REVIEWER_ROLES
from riskpool.services import ledger_post
from riskpool.workflows import M_CLAIM

PRODUCT_NAMES = {  # RP-M2 (第三条)
    "sci_tech": "科信贷",
    "export": "出口贷",
    "tax_source": "税源贷",
    "fixed_asset_investment": "固定资产投资贷",
}
# The Scheme M claim workflow (the pool's reviewer decides, the treasurer pays), read from its definition.
M_TRANSITIONS = M_CLAIM.allowed()
PRODUCT_CHUNK = 1000  # JB-15


def scheme_m_params(on: date) -> rules.SchemeMParams:
    """The Scheme M rule set in force on ``on``."""
    return rules.SchemeMParams.from_mapping(rule_params(RuleSet.Scheme.RISKPOOL_M, on))


def _require_scheme_m(pool: Pool) -> None:
    if pool.scheme != Pool.Scheme.M:
        raise RuleViolation("RP-M2", _("Products and Scheme M claims belong to a Scheme M pool."), "pool")


# --- RP-M2 products ------------------------------------------------------------------------


@transaction.atomic
def product_setup(*, user, pool: Pool, on: date | None = None) -> list[Product]:
    """RP-M2 (第三条, 第四条): the authority creates the pool's products from the rule set in force
    on ``on``: 科信贷 35,000,000; 出口贷 10,000,000; 税源贷 and 固定资产投资贷 sharing one
    20,000,000 sub-fund (both rows carry the sub-fund's code and its whole size). Products that
    already exist are kept as they are, so running it again adds only what is missing."""
    require_member(user, pool.authority, *AUTHORITY_ROLES)
    _require_scheme_m(pool)
    params = scheme_m_params(on or shanghai_today())
    existing = {p.code: p for p in Product.objects.filter(pool=pool)}
    products = []
    for fund in params.sub_funds:
        for code in fund.products:
            product = existing.get(code)
            if product is None:
                product = Product.objects.create(
                    pool=pool, code=code, name=PRODUCT_NAMES.get(code, code), subfund=fund.code, size=fund.size,
                )
                audit(actor=user, action=AuditEvent.Action.CREATE, instance=product, organisation=pool.authority,
                      summary=i18n_text.gettext_lazy("RP-M2 product %(product)s in sub-fund %(fund)s of %(size)s")
                      % {"product": i18n_text.label(code), "fund": fund.code, "size": fund.size})
            products.append(product)
    return products


# --- RP-M3 suspension ----------------------------------------------------------------------

# A guaranteed loan counts as non-performing at the bank while it is in default, compensated or
# being recovered (逾期, 代偿, 追偿); like RP-15, a written-off or fully recovered one no longer does.
GUARANTEE_NPL_STATUSES = (Guarantee.Status.DEFAULTED, Guarantee.Status.COMPENSATED, Guarantee.Status.RECOVERING)
_NPL_PROJECT = Q(classification__in=LoanProject.NPL_CLASSES) & ~Q(closed_reason=LoanProject.ClosedReason.WRITE_OFF)


@dataclass(frozen=True)
class ProductFigures:
    """The inputs of RP-M3 for one product: its NPL rate over every bank's loans of the product,
    the highest compensation rate of a firm on it, and the sub-fund's reimbursements (the
    product-wide 70% trigger)."""

    npl_rate: Decimal | None
    firm_compensation_rate: Decimal | None
    cumulative_reimbursed: Decimal


@dataclass(frozen=True)
class PartyFigures:
    """RP-M3 (第十条(一)) for one party in one product: a bank's NPL rate on its loans of the
    product, or a guarantee firm's compensation rate on its guarantees of the product, with the
    figures it is computed from."""

    product_id: int
    organisation_id: int
    role: str  # ProductPartySuspension.Role
    numerator: Decimal
    base: Decimal
    rate: Decimal | None


def party_risk_figures(products: list[Product], *, on: date) -> list[PartyFigures]:
    """RP-M3's per-party rates for many products, in three GROUP BY queries (JB-15).

    **Interpretation** (第十条(一) "专项产品贷款不良率、担保代偿率超过4%", each party's own rate):

    - a *bank's NPL rate* on a product: principal of its loans tagged with the product that are
      non-performing now ÷ principal of all its loans of the product begun by ``on``, over both
      what it entered as loan projects (five-category NPL classes, not written off, principal in
      yuan, as RP-15) and the guaranteed loans a firm recorded with the product (in default,
      compensated or being recovered; loan principal);
    - a *firm's compensation rate* on a product: GU-9's 代偿率 over the product's life up to ``on``:
      compensation it paid by then on its guarantees of the product ÷ the amount of those
      guarantees that ended by then (released, or compensated).
    """
    ids = [p.pk for p in products]
    if not ids:
        return []
    started = Guarantee.objects.filter(product_id__in=ids, start__lte=on)
    firm_rows = (
        started.values("product_id", "firm_id")
        .annotate(
            paid=Sum("compensation__paid_amount", filter=Q(compensation__paid_on__lte=on), default=_ZERO),
            ended=Sum("amount", filter=Q(closed_on__lte=on), default=_ZERO),
        )
        .order_by()
    )
    banks: dict[tuple[int, int], list[Decimal]] = {}
    for row in (
        started.values("product_id", "bank_id")
        .annotate(npl=Sum("loan_principal", filter=Q(status__in=GUARANTEE_NPL_STATUSES), default=_ZERO),
                  lent=Sum("loan_principal", default=_ZERO))
        .order_by()
    ):
        banks[(row["product_id"], row["bank_id"])] = [row["npl"], row["lent"]]
    for row in (
        LoanProject.objects.filter(product_id__in=ids, disbursed_on__lte=on)
        .values("product_id", "bank_id")
        .annotate(npl=Sum("principal_yuan", filter=_NPL_PROJECT, default=_ZERO),
                  lent=Sum("principal_yuan", default=_ZERO))
        .order_by()
    ):
        pair = banks.setdefault((row["product_id"], row["bank_id"]), [_ZERO, _ZERO])
        pair[0] += row["npl"]
        pair[1] += row["lent"]
    figures = [
        PartyFigures(row["product_id"], row["firm_id"], ProductPartySuspension.Role.FIRM, row["paid"], row["ended"],
                     compensation_rate(row["paid"], row["ended"]))
        for row in firm_rows
    ]
    figures += [
        PartyFigures(product_id, bank_id, ProductPartySuspension.Role.BANK, npl, lent,
                     rules.npl_ratio(npl, lent) if lent else None)
        for (product_id, bank_id), (npl, lent) in banks.items()
    ]
    return figures


def _sub_funds_reimbursed(products: list[Product], on: date) -> dict[tuple[int, str], Decimal]:
    paid = (
        MClaim.objects.filter(product__pool_id__in={p.pool_id for p in products},
                              product__subfund__in={p.subfund for p in products},
                              paid_on__isnull=False, paid_on__lte=on)
        .values("product__pool_id", "product__subfund")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(row["product__pool_id"], row["product__subfund"]): row["total"] for row in paid}


def product_risk_figures(products: list[Product], *, on: date,
                         parties: list[PartyFigures] | None = None) -> dict[int, ProductFigures]:
    """RP-M3's product-wide figures for many products in a constant number of queries (JB-15):
    the product's NPL rate over all its banks' loans and the highest firm compensation rate on
    it (both from ``party_risk_figures``, shown beside the per-party decisions), and the
    cumulative reimbursements: the amounts of the sub-fund's claims paid on or before ``on``,
    gross of returns; for 税源贷 and 固定资产投资贷 that is their shared sub-fund, compared with
    the sub-fund's size (the rules' own Interpretation)."""
    if parties is None:
        parties = party_risk_figures(products, on=on)
    reimbursed = _sub_funds_reimbursed(products, on)
    npl: dict[int, list[Decimal]] = {}
    firm_rates: dict[int, Decimal] = {}
    for f in parties:
        if f.role == ProductPartySuspension.Role.BANK:
            pair = npl.setdefault(f.product_id, [_ZERO, _ZERO])
            pair[0] += f.numerator
            pair[1] += f.base
        elif f.rate is not None and f.rate > firm_rates.get(f.product_id, Decimal("-1")):
            firm_rates[f.product_id] = f.rate
    return {
        p.pk: ProductFigures(
            npl_rate=rules.npl_ratio(*npl[p.pk]) if npl.get(p.pk, [_ZERO, _ZERO])[1] else None,
            firm_compensation_rate=firm_rates.get(p.pk),
            cumulative_reimbursed=reimbursed.get((p.pool_id, p.subfund)) or Decimal("0"),
        )
        for p in products
    }


def product_wide_suspension(product: Product, figures: ProductFigures, params) -> rules.Suspension:
    """RP-M3 (第十条(二)) for the whole product: its sub-fund's reimbursements reaching 70% of its
    size stop every party's new business in it. The 4% rates (第十条(一)) suspend one party at a
    time (``party_suspended``), never the whole product."""
    return rules.product_suspended(None, None, figures.cumulative_reimbursed, product.size, params)


def _sync_party_suspensions(products: list[Product], parties: list[PartyFigures], *, on: date, params,
                            user) -> None:
    """Open a ProductPartySuspension for each party newly above 4% (from ``on``), lift the open
    one of each party now within it (on ``on``), refresh the figures of those that stay; each
    opening and lifting audited."""
    ids = [p.pk for p in products]
    open_rows = {(r.product_id, r.organisation_id): r
                 for r in ProductPartySuspension.objects.filter(product_id__in=ids, lifted_on__isnull=True)}
    changed: list[ProductPartySuspension] = []
    for f in parties:
        result = rules.party_suspended(f.rate, f.role, params)
        reasons = [r.as_dict() for r in result.reasons]
        row = open_rows.pop((f.product_id, f.organisation_id), None)
        if result.suspended and row is None:
            row = ProductPartySuspension.objects.create(product_id=f.product_id, organisation_id=f.organisation_id,
                                                        role=f.role, rate=f.rate, since=on, reasons=reasons)
            audit(actor=user, action=AuditEvent.Action.CREATE, instance=row, organisation=None,
                  summary=i18n_text.gettext_lazy("RP-M3 new business of %(role)s %(organisation)s in product %(product)s suspended from "
                                         "%(on)s: rate %(rate)s")
                  % {"role": i18n_text.label(f.role), "organisation": f.organisation_id, "product": f.product_id, "on": on,
                     "rate": f.rate})
        elif result.suspended:
            row.rate, row.reasons = f.rate, reasons
            changed.append(row)
        elif row is not None:
            _lift(row, on=on, reasons=reasons, rate=f.rate, user=user)
    for row in open_rows.values():  # the party has no business left in the product to measure
        _lift(row, on=on, reasons=[], rate=row.rate, user=user)
    ProductPartySuspension.objects.bulk_update(changed, ["rate", "reasons"], batch_size=PRODUCT_CHUNK)


def _lift(row: ProductPartySuspension, *, on: date, reasons, rate, user) -> None:
    row.lifted_on = max(on, row.since)
    row.reasons = reasons
    row.rate = rate if rate is not None else row.rate
    row.save(update_fields=["lifted_on", "reasons", "rate"])
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=row, organisation=None,
          summary=i18n_text.gettext_lazy("RP-M3 suspension of %(role)s %(organisation)s in product %(product)s lifted on %(on)s")
          % {"role": i18n_text.label(row.role), "organisation": row.organisation_id, "product": row.product_id,
             "on": row.lifted_on})


def products_refresh_suspension(products, *, on: date, user="system (RP-M3)") -> list[Product]:
    """RP-M3 (第十条) for many products, set-based: the product-wide 70% trigger on each
    product's sub-fund (Product.suspended, from ``suspended_since``) and each firm's and bank's
    4% trigger on the product (ProductPartySuspension); a change of state is audited."""
    products = list(products)
    if not products:
        return products
    params = scheme_m_params(on)
    parties = party_risk_figures(products, on=on)
    figures = product_risk_figures(products, on=on, parties=parties)
    changed = []
    for product in products:
        result = product_wide_suspension(product, figures[product.pk], params)
        if result.suspended != product.suspended:
            changed.append(product)
            product.suspended_since = on if result.suspended else None
        product.suspended = result.suspended
        product.suspension_reasons = [r.as_dict() for r in result.reasons]
    Product.objects.bulk_update(products, ["suspended", "suspended_since", "suspension_reasons"],
                                batch_size=PRODUCT_CHUNK)
    for product in changed:
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=product, organisation=None,
              summary=i18n_text.gettext_lazy("RP-M3 product %(product)s suspended") % {"product": i18n_text.label(product.code)} if product.suspended
              else i18n_text.gettext_lazy("RP-M3 product %(product)s no longer suspended") % {"product": i18n_text.label(product.code)})
    _sync_party_suspensions(products, parties, on=on, params=params, user=user)
    return products


@transaction.atomic
def product_refresh_suspension(product: Product, *, on: date | None = None) -> Product:
    """RP-M3 for one product (``products_refresh_suspension`` of one)."""
    products_refresh_suspension([product], on=on or shanghai_today())
    return product


def suspension_problems(*, product: Product, parties, on: date, field: str = "product") -> list[Problem]:
    """RP-M3: why new business of ``parties`` (organisations) in ``product`` dated ``on`` is not
    allowed: the product-wide 70% suspension, or a party's own 4% suspension, in force on that
    day. Empty when it is allowed."""
    problems = []
    if product.suspended and product.suspended_since is not None and product.suspended_since <= on:
        problems.append(Problem("RP-M3", _(
            "New business in %(product)s is suspended for everyone since %(since)s: %(why)s") % {
            "product": product.name, "since": product.suspended_since.isoformat(),
            "why": " ".join(render_text(r["message"]) for r in product.suspension_reasons if r.get("outcome") == rules.FAIL),
        }, field))
    in_force = (
        ProductPartySuspension.objects.filter(product=product, organisation__in=[p.pk for p in parties],
                                              since__lte=on)
        .filter(Q(lifted_on__isnull=True) | Q(lifted_on__gt=on))
        .select_related("organisation")
        .order_by("role", "organisation__name")
    )
    for row in in_force:
        problems.append(Problem("RP-M3", _(
            "New business of %(party)s in %(product)s is suspended since %(since)s: %(why)s") % {
            "party": row.organisation.name, "product": product.name, "since": row.since.isoformat(),
            "why": " ".join(render_text(r["message"]) for r in row.reasons if r.get("outcome") == rules.FAIL),
        }, field))
    return problems


def products_refresh_all(*, on: date, progress=None) -> dict:
    """JB-4, Scheme M part: every Scheme M product's suspension state, in chunks of
    ``PRODUCT_CHUNK``."""
    qs = Product.objects.filter(pool__scheme=Pool.Scheme.M).order_by("pk")
    total = qs.count()
    done = suspended = last = 0
    if progress:
        progress(0, total)
    while True:
        chunk = list(qs.filter(pk__gt=last)[:PRODUCT_CHUNK])
        if not chunk:
            break
        products_refresh_suspension(chunk, on=on, user="system (JB-4)")
        done += len(chunk)
        suspended += sum(p.suspended for p in chunk)
        last = chunk[-1].pk
        if progress:
            progress(done, total)
    return {"products": total, "products_suspended": suspended}


# --- claims (RP-M1, RP-M4) -----------------------------------------------------------------


def _move(m_claim: MClaim, new: str, *, user, **changes) -> MClaim:
    """The one way a Scheme M claim's state changes: allowed by ``M_TRANSITIONS``, a conditional
    UPDATE on the old state (a concurrent step is a Conflict), an audit row."""
    old = m_claim.state
    if new not in M_TRANSITIONS.get(old, ()):
        raise Conflict("RP-M", _("This step is not possible while the claim is %(state)s.") % {"state": old})
    before = snapshot(m_claim)
    if MClaim.objects.filter(pk=m_claim.pk, state=old).update(state=new, **changes) != 1:
        raise Conflict("RP-M", _("Someone else changed this claim just now; reload and try again."))
    m_claim.state = new
    for name, value in changes.items():
        setattr(m_claim, name, value)
    audit(actor=user, action=AuditEvent.Action.TRANSITION, instance=m_claim, organisation=m_claim.firm,
          before=before, summary=i18n_text.gettext_lazy("Scheme M claim: %(old)s → %(new)s") % {"old": i18n_text.label(old), "new": i18n_text.label(new)})
    return m_claim


def _locked(m_claim: MClaim) -> MClaim:
    return (
        MClaim.objects.select_for_update(of=("self",))
        .select_related("product__pool", "firm", "compensation")
        .get(pk=m_claim.pk)
    )


def _m_ratio_and_amount(firm, compensation: Compensation) -> tuple[Decimal, Decimal, list[rules.Reason]]:
    """RP-M1 for one paid compensation: the ratio (40% when the firm is in the provincial new
    government-bank-guarantee system in the payout's year by its FirmYearProfile, otherwise 20%,
    also without a profile), under the rule set in force on the payout date, the amount in
    cents, and the two reasons in words. Shared by ``m_claim_submit`` and ``m_claim_preview``."""
    params = scheme_m_params(compensation.paid_on)
    year = compensation.paid_on.year
    profile = FirmYearProfile.objects.filter(firm=firm, year=year).first()
    in_system = bool(profile and profile.in_new_gov_bank_system)
    ratio = rules.m_ratio(in_system, params)
    amount = rules.m_reimbursement(compensation.paid_amount, in_system, params)
    if profile is None:
        why = _("The firm has no profile for %(year)d, so it is taken as outside the provincial new "
                "government-bank-guarantee system.") % {"year": year}
    elif in_system:
        why = _("The firm is in the provincial new government-bank-guarantee system in %(year)d.") % {"year": year}
    else:
        why = _("The firm is not in the provincial new government-bank-guarantee system in %(year)d.") % {"year": year}
    return ratio, amount, [
        rules.Reason("RP-M1", rules.INFO, why),
        rules.Reason("RP-M1", rules.PASS, _("%(ratio)s of the payout of %(payout)s yuan is %(amount)s yuan.") % {
            "ratio": f"{(ratio * 100).normalize():f}%", "payout": compensation.paid_amount, "amount": amount,
        }),
    ]


def _business_problems(*, product: Product, guarantee: Guarantee) -> list[Problem]:
    """What refuses a claim because of the business it pays out on: a guarantee of another
    product (RP-M2, the claim comes out of the business's own sub-fund); business begun before
    2024-05-15 (RP-M1, 第八条(三), 第二十三、二十四条); business begun while the product, the firm or
    the bank was suspended from new business in it (RP-M3). Business begun before a suspension
    is earlier business: its payouts are still reimbursed."""
    if guarantee.product_id is not None and guarantee.product_id != product.pk:
        return [Problem("RP-M2", _(
            "The guarantee belongs to the product %(theirs)s; claim on that product, not %(product)s.") % {
            "theirs": guarantee.product.name, "product": product.name}, "product")]
    problems = []
    covered = rules.m_business_covered(guarantee.start, product.code, product.name)
    if covered.outcome == rules.FAIL:
        problems.append(Problem("RP-M1", covered.message, "compensation"))
    problems += suspension_problems(product=product, parties=[guarantee.firm, guarantee.bank], on=guarantee.start)
    return problems


@dataclass(frozen=True)
class MClaimPreview:
    """What ``m_claim_submit`` would decide, shown before saving: the RP-M1 ratio and amount, the
    RP-M3 suspension of the product and the RP-M4 exclusions, each in words."""

    ratio: Decimal | None
    amount: Decimal | None
    reasons: tuple[rules.Reason, ...]
    refused: bool


def m_claim_preview(*, user, product: Product, compensation: Compensation, exclusions: dict) -> MClaimPreview:
    """The quote of a Scheme M claim, saving nothing, with the same rule functions and checks as
    ``m_claim_submit`` (a compensation not paid, or claimed already, is a refusal reason too)."""
    compensation = Compensation.objects.select_related("guarantee__firm", "guarantee__bank").get(pk=compensation.pk)
    firm = compensation.guarantee.firm
    require_member(user, firm, *FIRM_ROLES)
    product = Product.objects.select_related("pool").get(pk=product.pk)
    _require_scheme_m(product.pool)
    reasons: list[rules.Reason] = []
    ratio = amount = None
    business = _business_problems(product=product, guarantee=compensation.guarantee)
    if compensation.paid_on is None or not compensation.paid_amount:
        reasons.append(rules.Reason("RP-M1", rules.FAIL, _(
            "The compensation has not been paid; only an actual payout is reimbursed.")))
    elif not any(p.rule == "RP-M1" for p in business):  # older business has no Scheme M rule set to quote
        ratio, amount, ratio_reasons = _m_ratio_and_amount(firm, compensation)
        reasons.extend(ratio_reasons)
    if MClaim.objects.filter(compensation=compensation).exists():
        reasons.append(rules.Reason("RP-M1", rules.FAIL, _("This compensation already has a claim.")))
    reasons.extend(rules.Reason(p.rule, rules.FAIL, p.message) for p in business)
    if not any(r.rule in ("RP-M2", "RP-M3") and r.outcome == rules.FAIL for r in reasons):
        reasons.append(rules.Reason("RP-M3", rules.PASS, _(
            "The guarantee began on %(on)s, when new business in %(product)s was not suspended for the firm or "
            "the bank; a payout on earlier business is reimbursed even while new business is suspended now.") % {
            "on": compensation.guarantee.start.isoformat(), "product": product.name}))
    excluded = rules.m_exclusions(exclusions)
    reasons.extend(excluded or [rules.Reason("RP-M4", rules.PASS, _("No exclusion applies."))])
    return MClaimPreview(ratio=ratio, amount=amount, reasons=tuple(reasons),
                         refused=any(r.outcome == rules.FAIL for r in reasons))


@transaction.atomic
def m_claim_submit(*, user, product: Product, compensation: Compensation, submitted_on: date,
                   exclusions: dict) -> MClaim:
    """The guarantee firm claims on a product for a compensation (代偿) it paid.

    Refused: a compensation not paid yet; a second claim for it; a suspended product (RP-M3, no
    new business); any RP-M4 exclusion (第十二条), every one that applies listed. The ratio is
    RP-M1's (40% in the provincial new government-bank-guarantee system in the payout's year
    according to the firm's FirmYearProfile, otherwise 20%, also when that year has no profile),
    under the rule set in force on the payout date; the amount is ratio × the payout, in cents.
    """
    compensation = Compensation.objects.select_related("guarantee__firm", "guarantee__bank").get(pk=compensation.pk)
    guarantee = compensation.guarantee
    firm = guarantee.firm
    require_member(user, firm, *FIRM_ROLES)
    product = Product.objects.select_related("pool").get(pk=product.pk)
    _require_scheme_m(product.pool)
    if compensation.paid_on is None or not compensation.paid_amount:
        raise RuleViolation("RP-M1", _("The compensation has not been paid; only an actual payout is reimbursed."),
                            "compensation")
    if MClaim.objects.filter(compensation=compensation).exists():
        raise Conflict("RP-M1", _("This compensation already has a claim."), "compensation")
    problems = _business_problems(product=product, guarantee=guarantee)
    problems.extend(Problem(r.rule, r.message, "exclusions") for r in rules.m_exclusions(exclusions))
    if problems:
        raise RuleViolation.many(problems)
    ratio, amount, ratio_reasons = _m_ratio_and_amount(firm, compensation)
    reasons = [*(r.as_dict() for r in ratio_reasons),
               rules.Reason("RP-M4", rules.PASS, _("No exclusion applies.")).as_dict()]
    if guarantee.product_id is None:  # the firm's claim says which product the business was of
        before = snapshot(guarantee)
        Guarantee.objects.filter(pk=guarantee.pk, product__isnull=True).update(product=product)
        guarantee.product = product
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=guarantee, organisation=firm, before=before,
              summary=i18n_text.gettext_lazy("RP-M3 guarantee tagged with product %(product)s by its Scheme M claim") % {"product": i18n_text.label(product.code)})
    reasons.append(rules.m_business_covered(guarantee.start, product.code, product.name).as_dict())
    m_claim = MClaim.objects.create(
        product=product, firm=firm, compensation=compensation, state="submitted", submitted_on=submitted_on,
        payout=compensation.paid_amount, ratio=ratio, amount=amount, reasons=reasons,
    )
    audit(actor=user, action=AuditEvent.Action.CREATE, instance=m_claim, organisation=firm,
          summary=i18n_text.gettext_lazy("Scheme M claim on %(product)s: %(amount)s") % {"product": i18n_text.label(product.code), "amount": amount})
    return m_claim


@transaction.atomic
def m_claim_approve(*, user, m_claim: MClaim, note: str = "") -> MClaim:
    """The pool's reviewer approves a submitted Scheme M claim."""
    m_claim = _locked(m_claim)
    return _move(m_claim, M_CLAIM.check(user, m_claim, "review", to="approved"), user=user)


@transaction.atomic
def m_claim_reject(*, user, m_claim: MClaim, note: str) -> MClaim:
    """The pool's reviewer rejects a submitted Scheme M claim, with the reasons (kept in the
    claim's reasons list, there being no decision-note field)."""
    m_claim = _locked(m_claim)
    new = M_CLAIM.check(user, m_claim, "review", to="rejected")
    if not note.strip():
        raise RuleViolation("RP-M", _("A rejection needs the reasons."), "note")
    reasons = [*m_claim.reasons, rules.Reason("RP-M", rules.FAIL, note).as_dict()]
    return _move(m_claim, new, user=user, reasons=reasons)


def _sub_fund_paid(product: Product) -> Decimal:
    return MClaim.objects.filter(
        product__pool_id=product.pool_id, product__subfund=product.subfund, paid_on__isnull=False
    ).aggregate(total=Sum("amount", default=Decimal("0")))["total"]


@transaction.atomic
def m_claim_pay(*, user, m_claim: MClaim, on: date, idempotency_key: str) -> MClaim:
    """The treasurer pays an approved claim: a ledger payout out of the product's sub-fund
    (RP-M2). The sub-fund's cumulative reimbursements never exceed its size (税源贷 and
    固定资产投资贷 count together); the pool lock makes concurrent payouts check one after the
    other. A repeated request with the same key pays once. The products of the sub-fund are
    then checked again for RP-M3's 70% trigger."""
    m_claim = _locked(m_claim)
    product = m_claim.product
    pool = product.pool
    try:
        M_CLAIM.check(user, m_claim, "pay")
    except Conflict:
        if m_claim.state == "paid" and LedgerEntry.objects.filter(
            idempotency_key=idempotency_key, m_claim=m_claim, kind=LedgerEntry.Kind.PAYOUT
        ).exists():
            return m_claim  # the same payment again, already made: paid once
        raise
    Pool.objects.select_for_update().filter(pk=pool.pk).first()  # serialise payouts of the pool
    paid = _sub_fund_paid(product)
    if paid + m_claim.amount > product.size:
        raise RuleViolation(
            "RP-M2",
            _("The %(subfund)s sub-fund of %(size)s yuan has paid %(paid)s yuan; %(amount)s yuan more would exceed "
              "it.") % {"subfund": product.subfund, "size": product.size, "paid": paid, "amount": m_claim.amount},
            "amount",
        )
    ledger_post(user=user, pool=pool, kind=LedgerEntry.Kind.PAYOUT, amount=m_claim.amount, booked_on=on,
                m_claim=m_claim, idempotency_key=idempotency_key, note=f"Scheme M claim {m_claim.pk}")
    _move(m_claim, "paid", user=user, paid_on=on)
    products_refresh_suspension(Product.objects.filter(pool_id=pool.pk, subfund=product.subfund), on=on, user=user)
    return m_claim


# --- RP-M5 returns -------------------------------------------------------------------------


@dataclass(frozen=True)
class MReturn:
    """What a recovery returns to the pool, and by when (RP-M5)."""

    m_claim: MClaim
    amount: Decimal
    due_on: date


@transaction.atomic
def m_return_record(*, user, m_claim: MClaim, received_on: date, recovery, costs,
                    idempotency_key: str | None = None, on: date | None = None) -> MReturn:
    """RP-M5 (第十三条, 第十四条): the firm records money recovered on a reimbursed compensation,
    also after write-off, and returns (recovery − litigation, arbitration and enforcement costs)
    × the claim's ratio, never more in total than was reimbursed; due within 30 days of receipt.
    A return above 0 is a ledger RETURN_RECOVERY entry."""
    m_claim = _locked(m_claim)
    M_CLAIM.check(user, m_claim, "return")
    if idempotency_key:
        entry = LedgerEntry.objects.filter(idempotency_key=idempotency_key, m_claim=m_claim).first()
        if entry is not None:  # the same request again: already booked once
            return MReturn(m_claim=m_claim, amount=abs(entry.amount), due_on=rules.m_return_due(
                received_on, scheme_m_params(received_on)))
    recovery = money(recovery, rule="RP-M5", field="recovery")
    costs = money(costs, rule="RP-M5", field="costs")
    if recovery <= 0:
        raise RuleViolation("RP-M5", _("This amount must be more than 0."), "recovery")
    if costs < 0:
        raise RuleViolation("RP-M5", _("This amount cannot be negative."), "costs")
    on = on or shanghai_today()
    params = scheme_m_params(received_on)
    amount = rules.m_return(recovery, costs, m_claim.ratio, m_claim.amount, m_claim.returned_amount)
    due_on = rules.m_return_due(received_on, params)
    if amount > 0:
        ledger_post(user=user, pool=m_claim.product.pool, kind=LedgerEntry.Kind.RETURN_RECOVERY, amount=amount,
                    booked_on=on, m_claim=m_claim, idempotency_key=idempotency_key,
                    note=f"Scheme M claim {m_claim.pk} recovery")
        before = snapshot(m_claim)
        returned = m_claim.returned_amount + amount
        if MClaim.objects.filter(pk=m_claim.pk, returned_amount=m_claim.returned_amount).update(
            returned_amount=returned
        ) != 1:
            raise Conflict("RP-M5", _("Someone else changed this claim just now; reload and try again."))
        m_claim.returned_amount = returned
        audit(actor=user, action=AuditEvent.Action.UPDATE, instance=m_claim, organisation=m_claim.firm,
              before=before, summary=i18n_text.gettext_lazy("RP-M5 recovery %(recovery)s, costs %(costs)s, return %(amount)s due %(due)s")
              % {"recovery": recovery, "costs": costs, "amount": amount, "due": due_on})
    return MReturn(m_claim=m_claim, amount=amount, due_on=due_on)


# --- RP-M6 annual report (JB-11) -----------------------------------------------------------

_ZERO = Decimal("0")
_IN_KINDS = (LedgerEntry.Kind.BUDGET, LedgerEntry.Kind.INTEREST)
_RETURN_KINDS = (LedgerEntry.Kind.RETURN_UPGRADE, LedgerEntry.Kind.RETURN_RECOVERY, LedgerEntry.Kind.CLAWBACK,
                 LedgerEntry.Kind.CLAWBACK_INTEREST)


def _pool_money(pool_ids, start: date, end: date) -> dict[int, dict]:
    """Each pool's ledger over the year, one GROUP BY: balance before and after, money in
    (budget, interest), payouts (negative) and returns."""
    in_year = Q(booked_on__gte=start)
    rows = (
        LedgerEntry.objects.filter(pool_id__in=pool_ids, booked_on__lte=end)
        .values("pool_id")
        .annotate(
            before=Sum("amount", filter=Q(booked_on__lt=start), default=_ZERO),
            after=Sum("amount", default=_ZERO),
            budget=Sum("amount", filter=in_year & Q(kind__in=_IN_KINDS), default=_ZERO),
            paid=Sum("amount", filter=in_year & Q(kind=LedgerEntry.Kind.PAYOUT), default=_ZERO),
            returned=Sum("amount", filter=in_year & Q(kind__in=_RETURN_KINDS), default=_ZERO),
        )
        .order_by()
    )
    return {row["pool_id"]: row for row in rows}


def _product_money(pool_ids, start: date, end: date) -> dict[int, dict]:
    """Each product's claim money from the ledger, one GROUP BY: claims paid and reimbursed in
    the year, returned in the year, and both to the year's end."""
    in_year = Q(booked_on__gte=start)
    payout, returns = Q(kind=LedgerEntry.Kind.PAYOUT), Q(kind__in=_RETURN_KINDS)
    rows = (
        LedgerEntry.objects.filter(pool_id__in=pool_ids, m_claim__isnull=False, booked_on__lte=end)
        .values(product_key=F("m_claim__product_id"))
        .annotate(
            paid=Count("m_claim_id", filter=in_year & payout, distinct=True),
            reimbursed=Sum("amount", filter=in_year & payout, default=_ZERO),
            returned=Sum("amount", filter=in_year & returns, default=_ZERO),
            reimbursed_to_date=Sum("amount", filter=payout, default=_ZERO),
            returned_to_date=Sum("amount", filter=returns, default=_ZERO),
        )
        .order_by()
    )
    return {row["product_key"]: row for row in rows}


def _product_claims(pool_ids, start: date, end: date) -> dict[int, dict]:
    """Claims submitted in the year per product, their reimbursement claimed and how many of them
    were rejected (as the claims stand now), one GROUP BY."""
    rows = (
        MClaim.objects.filter(product__pool_id__in=pool_ids, submitted_on__range=(start, end))
        .values("product_id")
        .annotate(n=Count("pk"), amount=Sum("amount", default=_ZERO), rejected=Count("pk", filter=Q(state="rejected")))
        .order_by()
    )
    return {row["product_id"]: row for row in rows}


def m_annual_report(*, year: int, pool: Pool | None = None, run=None, progress=None) -> dict:
    """RP-M6 (第二十一条), JB-11: the fund-use report of ``year`` for every Scheme M pool (or only
    ``pool``), as one MAnnualReport per pool with one MAnnualReportLine per product: claims
    submitted in the year (and of them rejected), claims paid and reimbursed in the year, returns
    (RP-M5) in the year, both to the year's end, the sub-fund's use against its size (RP-M2) and
    whether new business in the product was suspended for everyone at the year's end and why
    (RP-M3's 70% trigger, ``product_wide_suspension`` on 31 December); the pool's balance
    at the start and end of the year, money received, reimbursed and returned.

    JB-15: a constant number of GROUP BY queries and bulk writes, whatever the number of claims.
    JB-12: a re-run for the year replaces the pool's report and lines (never adds to them); a
    report already recorded as submitted to the finance bureau is kept as it was sent."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    try:
        params = scheme_m_params(end)  # the rule set in force at the year's end
    except RuleViolation:  # a year before the first rule set: today's, for the 70% line and the due date
        params = scheme_m_params(shanghai_today())
    pools = Pool.objects.filter(scheme=Pool.Scheme.M)
    if pool is not None:
        _require_scheme_m(pool)
        pools = pools.filter(pk=pool.pk)
    pools = list(pools.order_by("pk"))
    kept = set(MAnnualReport.objects.filter(pool__in=pools, year=year, submitted_on__isnull=False)
               .values_list("pool_id", flat=True))
    pools = [p for p in pools if p.pk not in kept]
    ids = [p.pk for p in pools]
    products = list(Product.objects.filter(pool_id__in=ids).order_by("pool_id", "code"))
    if progress:
        progress(0, len(products))
    pool_money = _pool_money(ids, start, end)
    product_money = _product_money(ids, start, end)
    claims = _product_claims(ids, start, end)
    figures = product_risk_figures(products, on=end) if products else {}
    replaced, _by_model = MAnnualReport.objects.filter(pool_id__in=ids, year=year, submitted_on__isnull=True).delete()
    due_on = rules.m_report_due(year, params)
    lines_of: dict[int, list[MAnnualReportLine]] = {pk: [] for pk in ids}
    for product in products:
        money_row, claim_row, f = product_money.get(product.pk, {}), claims.get(product.pk, {}), figures[product.pk]
        suspension = product_wide_suspension(product, f, params)
        lines_of[product.pool_id].append(MAnnualReportLine(
            product=product,
            claims_submitted=claim_row.get("n", 0), submitted_amount=claim_row.get("amount", _ZERO),
            claims_rejected=claim_row.get("rejected", 0), claims_paid=money_row.get("paid", 0),
            reimbursed=-money_row.get("reimbursed", _ZERO), returned=money_row.get("returned", _ZERO),
            reimbursed_to_date=-money_row.get("reimbursed_to_date", _ZERO),
            returned_to_date=money_row.get("returned_to_date", _ZERO),
            subfund_size=product.size, subfund_reimbursed=f.cumulative_reimbursed,
            suspended=suspension.suspended, suspension_reasons=[r.as_dict() for r in suspension.reasons],
        ))
    reports = []
    for p in pools:
        row, lines = pool_money.get(p.pk, {}), lines_of[p.pk]
        reports.append(MAnnualReport(
            pool=p, year=year, due_on=due_on, balance_start=row.get("before", _ZERO), budget_in=row.get("budget", _ZERO),
            reimbursed=-row.get("paid", _ZERO), returned=row.get("returned", _ZERO), balance_end=row.get("after", _ZERO),
            claims_submitted=sum(line.claims_submitted for line in lines),
            claims_paid=sum(line.claims_paid for line in lines),
            products_suspended=sum(line.suspended for line in lines), job_run=run,
        ))
    MAnnualReport.objects.bulk_create(reports, batch_size=PRODUCT_CHUNK)
    all_lines = []
    for report in reports:
        for line in lines_of[report.pool_id]:
            line.report = report
            all_lines.append(line)
    MAnnualReportLine.objects.bulk_create(all_lines, batch_size=PRODUCT_CHUNK)
    if progress:
        progress(len(products), len(products))
    return {"m_reports": len(reports), "m_report_lines": len(all_lines), "m_reports_kept_submitted": len(kept),
            "m_reports_replaced": replaced}


@transaction.atomic
def m_annual_report_submit(*, user, report: MAnnualReport, on: date) -> MAnnualReport:
    """RP-M6 (第二十一条): the fund manager (the pool's reviewer, 管理机构) records that the year's
    report was sent to the finance bureau (市财政局) on ``on``; due by the end of March of the
    next year (``rules.m_report_due``); a late submission is recorded and said to be late. Once
    only; audited. JB-11 does not replace a submitted report."""
    report = MAnnualReport.objects.select_for_update(of=("self",)).select_related("pool").get(pk=report.pk)
    require_member(user, report.pool.reviewer, *REVIEWER_ROLES)
    if report.submitted_on is not None:
        raise Conflict("RP-M6", _("This report was already submitted on %(on)s.") % {"on": report.submitted_on})
    if on <= date(report.year, 12, 31):
        raise RuleViolation("RP-M6", _("The report on %(year)d can be submitted from 1 January %(next)d.") % {
            "year": report.year, "next": report.year + 1}, "on")
    if on > shanghai_today():
        raise RuleViolation("RP-M6", _("The submission date cannot be in the future."), "on")
    before = snapshot(report)
    if MAnnualReport.objects.filter(pk=report.pk, submitted_on__isnull=True).update(
        submitted_on=on, submitted_by=user
    ) != 1:
        raise Conflict("RP-M6", _("Someone else changed this report just now; reload and try again."))
    report.submitted_on, report.submitted_by = on, user
    late = on > report.due_on
    audit(actor=user, action=AuditEvent.Action.UPDATE, instance=report, organisation=report.pool.reviewer,
          before=before, summary=(i18n_text.gettext_lazy("RP-M6 report %(year)s submitted to the finance bureau on %(on)s (late, due %(due)s)")
                                if late else i18n_text.gettext_lazy("RP-M6 report %(year)s submitted to the finance bureau on %(on)s"))
          % {"year": report.year, "on": on, "due": report.due_on})
    return report
