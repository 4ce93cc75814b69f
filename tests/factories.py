"""factory_boy factories shared by every test module."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import factory

from core.models import ApiToken, Organisation, Region, Role, RuleSet, User
from core.validators import CREDIT_CODE_ALPHABET, credit_code_check_character
from guarantees.models import Agreement, Borrower, Guarantee
from guarantees.services import BorrowerData, GuaranteeData

_serial = itertools.count(1)


def make_credit_code(seed: int | None = None) -> str:
    """A valid unified social credit code (GB 32100-2015) unique per call."""
    n = next(_serial) if seed is None else seed
    body = "91" + "110000" + "".join(CREDIT_CODE_ALPHABET[(n // 31**i) % 31] for i in range(9))
    return body + credit_code_check_character(body)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{90 + n % 9}{n:04d}")
    name = factory.Sequence(lambda n: f"地区{n}")
    level = Region.Level.PROVINCE
    parent = None


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"机构{n}")
    kind = Organisation.Kind.GUARANTEE_FIRM
    credit_code = factory.LazyFunction(make_credit_code)
    region = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password("pass-Word-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """``UserFactory(roles=["firm_operator"])``."""
        if create and extracted:
            self.roles.set(Role.objects.filter(code__in=extracted))


def firm_user(**kwargs) -> User:
    return UserFactory(organisation__kind=Organisation.Kind.GUARANTEE_FIRM, roles=["firm_operator"], **kwargs)


def bank_user(**kwargs) -> User:
    return UserFactory(organisation__kind=Organisation.Kind.BANK, roles=["bank_operator"], **kwargs)


class BorrowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Borrower

    owner = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"小微企业{n}有限公司")
    id_kind = Borrower.IdKind.CREDIT_CODE
    id_number = factory.LazyFunction(make_credit_code)
    kind = Borrower.Kind.ENTERPRISE
    industry = "industry"
    size_entered = Borrower.Size.SMALL
    size_evidence = "2024 年度财务报表"


class AgreementFactory(factory.django.DjangoModelFactory):
    """The reference 2:4:2:2 split."""

    class Meta:
        model = Agreement

    firm = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.GUARANTEE_FIRM)
    bank = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.BANK)
    code = factory.Sequence(lambda n: f"YD-{n:05d}")
    signed_on = date(2024, 1, 1)
    expires_on = date(2026, 12, 31)
    grace_days = 30
    share_bank = Decimal("0.200000")
    share_firm = Decimal("0.400000")
    share_reguarantee = Decimal("0.200000")
    share_national_fund = Decimal("0.200000")
    share_government = Decimal("0")


class GuaranteeFactory(factory.django.DjangoModelFactory):
    """A row as it is stored; to exercise the rules, create through guarantees.services."""

    class Meta:
        model = Guarantee

    agreement = factory.SubFactory(AgreementFactory)
    firm = factory.SelfAttribute("agreement.firm")
    bank = factory.SelfAttribute("agreement.bank")
    borrower = factory.SubFactory(BorrowerFactory, owner=factory.SelfAttribute("..firm"))
    contract_no = factory.Sequence(lambda n: f"DB-{n:06d}")
    loan_principal = Decimal("1000000.00")
    amount = Decimal("1000000.00")
    loan_start = date(2024, 3, 1)
    loan_maturity = date(2025, 2, 28)
    start = date(2024, 3, 1)
    end = date(2025, 2, 28)
    fee_rate = Decimal("0.008000")
    small_micro_or_agri = True
    single_borrower_amount = Decimal("1000000.00")


# -- core: rule sets and API tokens (added with the core admin tests) --------------------------


class RuleSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleSet

    scheme = RuleSet.Scheme.GUARANTEES
    name = factory.Sequence(lambda n: f"rule set {n}")
    effective_from = date(2024, 1, 1)
    effective_to = None
    params = factory.LazyFunction(lambda: {"example_ratio": "0.400000"})


def api_token(user=None, name="loan system") -> tuple[ApiToken, str]:
    """An API token for ``user`` (a new bank user by default) and its full key."""
    from core.services import api_token_issue

    user = user or bank_user()
    return api_token_issue(actor="tests", user=user, name=name)


# -- guarantees: net assets and compensations (added with the indicator and job tests) -------


class FirmNetAssetsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "guarantees.FirmNetAssets"

    firm = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.GUARANTEE_FIRM)
    as_of = date(2024, 12, 31)
    net_assets = Decimal("100000000.00")


def _two_tenths(base: Decimal) -> Decimal:
    return (base * Decimal("0.2")).quantize(Decimal("0.01"))


class CompensationFactory(factory.django.DjangoModelFactory):
    """A compensation of the whole guaranteed amount, split 2:4:2:2 with parts adding up.
    Unpaid unless ``paid_on`` and ``paid_amount`` are given."""

    class Meta:
        model = "guarantees.Compensation"

    guarantee = factory.SubFactory(GuaranteeFactory, status=Guarantee.Status.DEFAULTED)
    default_on = date(2024, 11, 1)
    due_on = factory.LazyAttribute(lambda c: c.default_on + timedelta(days=30))
    principal = factory.SelfAttribute("guarantee.amount")
    base = factory.SelfAttribute("principal")
    shares = factory.LazyFunction(
        lambda: {"bank": "0.200000", "guarantee_firm": "0.400000", "reguarantee": "0.200000",
                 "national_fund": "0.200000", "government": "0"}
    )
    part_bank = factory.LazyAttribute(lambda c: _two_tenths(c.base))
    part_reguarantee = factory.LazyAttribute(lambda c: _two_tenths(c.base))
    part_national_fund = factory.LazyAttribute(lambda c: _two_tenths(c.base))
    part_government = Decimal("0.00")
    part_firm = factory.LazyAttribute(lambda c: c.base - 3 * _two_tenths(c.base))


# --- added for the guarantees API and service tests -------------------------------------------


def authority_user(region: Region, **kwargs) -> User:
    """A user of an authority whose jurisdiction is ``region`` and everything under it."""
    return UserFactory(
        organisation__kind=Organisation.Kind.AUTHORITY, organisation__region=region, roles=["authority_reviewer"], **kwargs
    )


class BorrowerDataFactory(factory.Factory):
    """``guarantees.services.BorrowerData`` of a small enterprise (size entered with evidence)."""

    class Meta:
        model = BorrowerData

    name = factory.Sequence(lambda n: f"借款企业{n}有限公司")
    id_kind = Borrower.IdKind.CREDIT_CODE
    id_number = factory.LazyFunction(make_credit_code)
    kind = Borrower.Kind.ENTERPRISE
    size_entered = Borrower.Size.SMALL
    size_evidence = "2024 年度财务报表"


class GuaranteeDataFactory(factory.Factory):
    """``guarantees.services.GuaranteeData`` inside AgreementFactory's term, fee within GU-5's cap."""

    class Meta:
        model = GuaranteeData

    contract_no = factory.Sequence(lambda n: f"DBS-{n:06d}")
    loan_principal = Decimal("1000000.00")
    amount = Decimal("800000.00")
    loan_start = date(2024, 3, 1)
    loan_maturity = date(2025, 2, 28)
    start = date(2024, 3, 1)
    end = date(2025, 2, 28)
    fee_rate = Decimal("0.008000")


_payload_serial = itertools.count(1)


def guarantee_api_payload(agreement: Agreement, *, borrower: dict | None = None, **overrides) -> dict:
    """The JSON body of ``POST /api/guarantees/guarantees/`` under ``agreement``."""
    n = next(_payload_serial)
    payload = {
        "agreement": agreement.pk,
        "borrower": {
            "name": f"接口借款企业{n}有限公司", "id_kind": "credit_code", "id_number": make_credit_code(),
            "kind": "enterprise", "size_entered": "small", "size_evidence": "2024 年度财务报表",
            **(borrower or {}),
        },
        "contract_no": f"DBA-{n:06d}",
        "loan_principal": "1000000.00",
        "amount": "800000.00",
        "loan_start": "2024-03-01",
        "loan_maturity": "2025-02-28",
        "start": "2024-03-01",
        "end": "2025-02-28",
        "fee_rate": "0.008000",
    }
    payload.update(overrides)
    return payload


class PoolFactory(factory.django.DjangoModelFactory):
    """A Scheme S pool with its authority, reviewer and treasurer organisations."""

    class Meta:
        model = "riskpool.Pool"

    name = factory.Sequence(lambda n: f"中小微企业贷款风险补偿资金池{n}")
    scheme = "S"
    size = Decimal("5000000000.00")
    authority = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.AUTHORITY)
    reviewer = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.POOL_REVIEWER)
    treasurer = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.POOL_TREASURER)


# --- riskpool: members and loan projects (added with the riskpool service tests) -------------


class MemberFactory(factory.django.DjangoModelFactory):
    """A member bank of a Scheme S pool."""

    class Meta:
        model = "riskpool.Member"

    pool = factory.SubFactory(PoolFactory)
    organisation = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.BANK)
    joined_on = date(2024, 1, 1)


class LoanProjectFactory(factory.django.DjangoModelFactory):
    """A normal loan project as stored (to exercise RP-5 / RP-6, enter through riskpool.services)."""

    class Meta:
        model = "riskpool.LoanProject"

    pool = factory.SubFactory(PoolFactory)
    bank = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.BANK)
    borrower = factory.SubFactory(BorrowerFactory, owner=factory.SelfAttribute("..bank"))
    loan_no = factory.Sequence(lambda n: f"JJ-F{n:06d}")
    loan_kind = "enterprise"
    principal = Decimal("1000000.00")
    principal_yuan = factory.SelfAttribute("principal")
    disbursed_on = date(2024, 4, 1)
    maturity_on = date(2025, 4, 1)
    annual_rate = Decimal("0.040000")
    guarantee_method = "credit"
    other_balance = Decimal("0.00")
    entered_on = date(2024, 4, 10)
    classified_on = factory.SelfAttribute("entered_on")


# --- riskpool: claims and API payloads (added with the riskpool API tests) -------------------


class ClaimFactory(factory.django.DjangoModelFactory):
    """A claim row as stored, submitted on an NPL project (to exercise the rules, submit through
    riskpool.services.claim_submit)."""

    class Meta:
        model = "riskpool.Claim"

    project = factory.SubFactory(LoanProjectFactory, classification="substandard")
    state = "submitted"
    submitted_on = date(2025, 4, 1)
    npl_on = date(2025, 3, 3)
    outstanding_principal = Decimal("800000.00")
    credit_report_on = date(2025, 3, 25)
    ratio = Decimal("0.400000")
    amount = Decimal("320000.00")
    next_due_on = date(2025, 5, 1)


_project_payload_serial = itertools.count(1)


def riskpool_project_payload(**overrides) -> dict:
    """One loan as ``POST /api/riskpool/projects/`` takes it (without ``pool``): the spec's worked
    example, 3,000,000 disbursed 2024-05-10, other balance 1,500,000, pure credit."""
    n = next(_project_payload_serial)
    payload = {
        "borrower": {
            "name": f"资金池借款企业{n}有限公司", "id_kind": "credit_code", "id_number": make_credit_code(),
            "kind": "enterprise", "size_entered": "small", "size_evidence": "2024 年度财务报表",
        },
        "loan_no": f"JJ-API-{n:06d}",
        "loan_kind": "enterprise",
        "principal": "3000000.00",
        "disbursed_on": "2024-05-10",
        "maturity_on": "2025-05-09",
        "annual_rate": "0.0420",
        "other_balance": "1500000.00",
        "features": ["pure_credit"],
    }
    payload.update(overrides)
    return payload


# --- riskpool: Scheme M and held claims (added with the Scheme M and JB-4 tests) -------------


class SchemeMPoolFactory(PoolFactory):
    """A Scheme M pool (马政办〔2024〕6号), first-phase size 65,000,000 (RP-M2)."""

    name = factory.Sequence(lambda n: f"金融发展风险补偿资金{n}")
    scheme = "M"
    size = Decimal("65000000.00")


class ProductFactory(factory.django.DjangoModelFactory):
    """A Scheme M product with its own sub-fund (create the defaults with services_m.product_setup)."""

    class Meta:
        model = "riskpool.Product"

    pool = factory.SubFactory(SchemeMPoolFactory)
    code = factory.Sequence(lambda n: f"product{n}")
    name = factory.Sequence(lambda n: f"产品{n}")
    subfund = factory.SelfAttribute("code")
    size = Decimal("10000000.00")


class FirmYearProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "guarantees.FirmYearProfile"

    firm = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.GUARANTEE_FIRM)
    year = 2025
    in_new_gov_bank_system = True


def paid_compensation(firm, *, paid_amount=Decimal("1000000.00"), paid_on=date(2025, 2, 1), **kwargs):
    """A compensation the guarantee firm ``firm`` has paid to the bank, on a guarantee that began
    on 2024-06-03: Scheme M business (RP-M1 covers business from 2024-05-15)."""
    kwargs.setdefault("guarantee__start", date(2024, 6, 3))
    kwargs.setdefault("guarantee__loan_start", date(2024, 6, 3))
    kwargs.setdefault("guarantee__end", date(2025, 6, 2))
    kwargs.setdefault("guarantee__loan_maturity", date(2025, 6, 2))
    return CompensationFactory(guarantee__agreement__firm=firm, paid_on=paid_on, paid_amount=paid_amount, **kwargs)

