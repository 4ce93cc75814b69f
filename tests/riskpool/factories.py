"""Builders for the risk-pool tests: the spec's worked example (example_data), the Scheme S world
(a pool, its people and one member bank; the ``world`` fixture in conftest.py) and claim documents."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from django.core.files.uploadedfile import SimpleUploadedFile

from guarantees.models import BorrowerQualification
from riskpool import services
from riskpool.models import ClaimDocument, LoanProject
from tests.factories import BorrowerDataFactory, LoanProjectFactory, PoolFactory, UserFactory, bank_user

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PAYMENT_KINDS = [ClaimDocument.Kind.ACCOUNT_CONFIRMATION, ClaimDocument.Kind.RECEIPT,
                 ClaimDocument.Kind.ID_COPY, ClaimDocument.Kind.AUTHORISATION]


def pdf(name="doc.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def claim_documents():
    """RP-14: the two attachments every claim needs."""
    return [(ClaimDocument.Kind.CREDIT_REPORT, pdf("征信报告.pdf")), (ClaimDocument.Kind.LOAN_FILE, pdf("贷款资料.pdf"))]


def example_data(**overrides) -> services.ProjectData:
    """The spec's worked example: 3,000,000 disbursed 2024-05-10, other balance 1,500,000, pure credit."""
    values = dict(
        loan_no="JJ-2024-0001", loan_kind="enterprise", principal=D("3000000.00"), disbursed_on=date(2024, 5, 10),
        maturity_on=date(2025, 5, 9), annual_rate=D("0.0420"), other_balance=D("1500000.00"),
        features=["pure_credit"], entered_on=date(2024, 6, 1),
    )
    values.update(overrides)
    return services.ProjectData(**values)


class World:
    """A pool with its authority, reviewer and treasurer people, and one member bank whose other
    loans (200,000,000 normal) keep its NPL ratio under 3% when the example loan goes bad."""

    def __init__(self):
        self.pool = PoolFactory()
        self.authority = UserFactory(organisation=self.pool.authority, roles=["authority_admin"])
        self.reviewer = UserFactory(organisation=self.pool.reviewer, roles=["pool_reviewer"])
        self.treasurer = UserFactory(organisation=self.pool.treasurer, roles=["pool_treasurer"])
        self.bank_user = bank_user()
        self.bank = self.bank_user.organisation
        self.member = services.member_add(user=self.authority, pool=self.pool, bank=self.bank,
                                          joined_on=date(2024, 1, 1))
        self.ballast = LoanProjectFactory(pool=self.pool, bank=self.bank, principal=D("200000000.00"))

    def register(self, **overrides) -> LoanProject:
        project = services.project_register(user=self.bank_user, pool=self.pool, borrower=BorrowerDataFactory(),
                                            data=example_data(**overrides))
        BorrowerQualification.objects.create(borrower=project.borrower, code="high_tech",
                                             valid_from=date(2023, 1, 1), valid_to=date(2025, 12, 31))
        return project

    def npl(self, project, on=date(2025, 3, 3), new="substandard"):
        return services.project_classify(user=self.bank_user, project=project, new=new, on=on)

    def submit(self, project, submitted_on=date(2025, 4, 1), credit_report_on=date(2025, 3, 25), **kwargs):
        kwargs.setdefault("documents", claim_documents())
        return services.claim_submit(user=self.bank_user, project=project, submitted_on=submitted_on,
                                     outstanding_principal=kwargs.pop("outstanding", D("2400000.00")),
                                     credit_report_on=credit_report_on, **kwargs)

    def claim(self, loan_no="JJ-2024-0001"):
        project = self.register(loan_no=loan_no)
        self.npl(project)
        return self.submit(project)

    def to_notice(self, claim, on=date(2025, 4, 14)):
        services.claim_review(user=self.reviewer, claim=claim, approve=True, note="符合条件", on=date(2025, 4, 10))
        return services.claim_notice_start(user=self.authority, claims=[claim], on=on)[0]

    def to_documents(self, claim, number="ZZ-2025-01"):
        claim = self.to_notice(claim)
        after = date(2025, 4, 24)
        services.claim_notice_close(user=self.authority, claim=claim, on=after)
        services.funding_plan_issue(user=self.authority, pool=self.pool, number=number, claims=[claim], on=after)
        files = [(kind, pdf(f"{kind}.pdf")) for kind in PAYMENT_KINDS]
        return services.claim_documents_upload(user=self.bank_user, claim=claim, files=files, on=date(2025, 4, 25))

    def budget(self, amount="5000000.00"):
        services.pool_budget_add(user=self.authority, pool=self.pool, amount=amount, booked_on=date(2025, 1, 2))

    def pay(self, claim, key="pay-1", on=date(2025, 4, 28)):
        return services.claim_pay(user=self.treasurer, claim=claim, on=on, idempotency_key=key)
