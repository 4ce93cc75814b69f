"""The guarantee bulk upload against its anchors (issue 12), for ``make bench``:

    from guarantees.bench_import import bench_import
    figures = bench_import(100_000, stdout=sys.stdout)

Self-contained, as ``riskpool.bench_import``: it makes its own guarantee firm, partner bank,
agreement and operator (kept, named ``bench-import``), builds a file of ``rows`` guarantees as
a firm fills in the template (csv, and xlsx unless ``xlsx=False``), and times, each inside a
transaction that is rolled back:

- ``ours``: ``guarantees.imports.import_content`` (read, check every row, write the borrowers,
  the guarantees and their audit rows) in a fresh Python process, whose peak resident memory
  is ``peak_mb``;
- ``copy``: COPY of the same rows (borrowers, guarantees, audit rows), already formatted;
- ``django-import-export``: ``ModelResource.import_data`` of the same borrowers and guarantees
  on ``anchor_rows`` rows, scaled linearly to ``rows``.

Targets (issue 12): ours ≥ 10× faster than django-import-export, ≤ 5× COPY, peak ≤ 300 MB.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from core import bench_import as bench
from core import i18n_text
from guarantees.services import BORROWER_SUMMARY, GUARANTEE_SUMMARY

HEADERS = ["合作协议编号", "担保合同编号", "融资人名称", "证件类型", "证件号码", "融资人类型", "行业", "从业人员(人)",
           "营业收入(元)", "资产总额(元)", "贷款本金(元)", "担保金额(元)", "币种", "贷款起始日", "贷款到期日",
           "担保起始日", "担保到期日", "担保费率(%)", "用途"]
AGREEMENT = "BENCH-IMP-YD"


def bench_world():
    """The bench's firm, its operator, its partner bank and their agreement (created once, kept)."""
    from core.models import Organisation
    from guarantees.models import Agreement

    firm = bench.bench_organisation("bench-import 担保公司", Organisation.Kind.GUARANTEE_FIRM, 3)
    bank = bench.bench_organisation("bench-import 合作银行", Organisation.Kind.BANK, 4)
    user = bench.bench_user("bench-import-firm", firm, "firm_operator")
    agreement = Agreement.objects.get_or_create(firm=firm, code=AGREEMENT, defaults={
        "bank": bank, "signed_on": date(2020, 1, 1), "expires_on": date(2099, 12, 31), "grace_days": 30,
        "share_bank": Decimal("0.2"), "share_firm": Decimal("0.4"), "share_reguarantee": Decimal("0.2"),
        "share_national_fund": Decimal("0.2"), "share_government": Decimal("0")})[0]
    return user, firm, agreement


def guarantee_rows(rows: int) -> list[list]:
    """``rows`` guarantees as the template's cells, a new borrower every second row."""
    out = []
    for n in range(rows):
        b = n // 2
        out.append([
            AGREEMENT, f"BENCH-DB-{n:07d}", f"基准担保企业{b}有限公司", "统一社会信用代码", bench.credit_code(b), "企业", "工业",
            50, "5000000", "3000000", "1000000", f"{500000 + n % 1000 * 100}.00", "CNY", "2025-03-01",
            "2026-02-28", "2025-03-01", "2026-02-28", "0.8", "经营",
        ])
    return out


def import_for_bench(content: bytes) -> int:
    """The bench's upload of ``content`` as its firm (what ``time_ours`` runs in a fresh process)."""
    from guarantees.imports import import_content

    user, firm, _agreement = bench_world()
    return import_content(user=user, firm=firm, content=content)


def time_ours(content: bytes) -> dict:
    return bench.time_in_child("guarantees.bench_import.import_for_bench", content)


@dataclass(frozen=True)
class BorrowerCells:
    """Where a bench file's row holds its borrower (column indexes), and the borrower's industry:
    both benchmarks' anchors write the borrowers the same way (``riskpool.bench_import`` too)."""

    name: int
    code: int
    employees: int
    revenue: int
    assets: int
    industry: str

    def copy(self, rows: list[list], *, owner, user, now) -> Callable[[], dict[str, int]]:
        """The borrowers (one per credit code) formatted for COPY now; the function returned is
        the timed part: their COPY and their audit rows, giving their ids by credit code."""
        from core.models import AuditEvent
        from guarantees.models import Borrower

        borrowers: dict[str, Borrower] = {}
        for row in rows:
            borrowers.setdefault(row[self.code], Borrower(
                owner=owner, name=row[self.name], id_kind="credit_code", id_number=row[self.code], kind="enterprise",
                industry=self.industry, employees=int(row[self.employees]), revenue=Decimal(row[self.revenue]),
                total_assets=Decimal(row[self.assets]), size_derived="small", created_at=now))
        fields = bench.columns_of(Borrower)
        lines = bench.copy_lines(borrowers.values(), fields)

        def write() -> dict[str, int]:
            bench.copy(Borrower, [f.column for f in fields], lines)
            ids = dict(Borrower.objects.filter(owner=owner, id_number__in=list(borrowers))
                       .values_list("id_number", "pk"))
            bench.copy(AuditEvent, bench.audit_columns(), bench.audit_copy_lines(
                kind="guarantees.borrower", items=((ids[code], i18n_text.dumps_with(BORROWER_SUMMARY, {"name": b.name}), {"name": b.name}) for code, b in borrowers.items()),
                actor=user, organisation=owner, at=now))
            return ids

        return write

    def import_export(self, rows: list[list], owner):
        """django-import-export's usual resource of the borrowers, and their dataset."""
        import tablib
        from import_export import resources

        from guarantees.models import Borrower

        class BorrowerResource(resources.ModelResource):
            class Meta:
                model = Borrower
                fields = ("name", "id_kind", "id_number", "kind", "industry", "employees", "revenue", "total_assets")
                import_id_fields = ("id_number",)

            def get_queryset(self):
                # The owner's borrowers, as a real resource would scope them: the look-up uses
                # the (owner, id_number) unique index instead of scanning every borrower.
                return Borrower.objects.filter(owner=owner)

            def before_save_instance(self, instance, row, **kwargs):
                instance.owner = owner

        dataset = tablib.Dataset(headers=list(BorrowerResource.Meta.fields))
        seen = set()
        for row in rows:
            if row[self.code] not in seen:
                seen.add(row[self.code])
                dataset.append([row[self.name], "credit_code", row[self.code], "enterprise", self.industry,
                                row[self.employees], row[self.revenue], row[self.assets]])
        return BorrowerResource, dataset

    @staticmethod
    def borrower_field(owner):
        """The import-export field of a row's borrower, by its credit code among the owner's."""
        from import_export import fields, widgets

        from guarantees.models import Borrower

        class OwnersBorrower(widgets.ForeignKeyWidget):
            def get_queryset(self, value, row, *args, **kwargs):
                return Borrower.objects.filter(owner=owner)

        return fields.Field(attribute="borrower", column_name="borrower",
                            widget=OwnersBorrower(Borrower, field="id_number"))


BORROWER = BorrowerCells(name=2, code=4, employees=7, revenue=8, assets=9, industry="industry")


def time_copy(rows: list[list], user, firm, agreement) -> dict:
    """COPY of the rows the import writes: borrowers, guarantees and one audit row each."""
    from core.models import AuditEvent
    from guarantees.models import Guarantee

    now = timezone.now()
    write_borrowers = BORROWER.copy(rows, owner=firm, user=user, now=now)
    g_fields = bench.columns_of(Guarantee)
    guarantees = [Guarantee(
        firm=firm, bank_id=agreement.bank_id, agreement=agreement, contract_no=row[1], loan_principal=Decimal(row[10]),
        amount=Decimal(row[11]), currency="CNY", loan_start=date.fromisoformat(row[13]),
        loan_maturity=date.fromisoformat(row[14]), start=date.fromisoformat(row[15]), end=date.fromisoformat(row[16]),
        fee_rate=Decimal("0.008000"), other_fees=Decimal("0"), bank_fees=Decimal("0"), purpose="operations",
        small_micro_or_agri=True, single_borrower_amount=Decimal(row[11]), created_by=user, created_at=now,
        updated_at=now) for row in rows]

    def run():
        ids = write_borrowers()
        for guarantee, row in zip(guarantees, rows, strict=True):
            guarantee.borrower_id = ids[row[4]]
        bench.copy(Guarantee, [f.column for f in g_fields], bench.copy_lines(guarantees, g_fields))
        contract_ids = dict(Guarantee.objects.filter(firm=firm, contract_no__startswith="BENCH-DB-")
                            .values_list("contract_no", "pk"))
        audit = {"actor": user, "organisation": firm, "at": now}
        bench.copy(AuditEvent, bench.audit_columns(), bench.audit_copy_lines(
            kind="guarantees.guarantee",
            items=((contract_ids[g.contract_no], i18n_text.dumps_with(GUARANTEE_SUMMARY, {"contract": g.contract_no}), {"contract_no": g.contract_no})
                   for g in guarantees), **audit))
        return len(contract_ids)

    return bench.timed(run)


def time_import_export(rows: list[list], user, firm, agreement) -> dict:
    """django-import-export's usual ModelResource import of the same borrowers and guarantees."""
    import tablib
    from import_export import resources

    from guarantees.models import Guarantee

    BorrowerResource, borrowers = BORROWER.import_export(rows, firm)

    class GuaranteeResource(resources.ModelResource):
        borrower = BorrowerCells.borrower_field(firm)

        class Meta:
            model = Guarantee
            fields = ("borrower", "contract_no", "loan_principal", "amount", "currency", "loan_start", "loan_maturity",
                      "start", "end", "fee_rate", "purpose")
            import_id_fields = ("contract_no",)

        def get_queryset(self):
            return Guarantee.objects.filter(firm=firm)  # the firm's contracts, as a real resource scopes them

        def before_save_instance(self, instance, row, **kwargs):
            instance.firm, instance.bank_id, instance.agreement, instance.created_by = (
                firm, agreement.bank_id, agreement, user)
            instance.single_borrower_amount = instance.amount

    guarantees = tablib.Dataset(headers=list(GuaranteeResource.Meta.fields))
    for row in rows:
        guarantees.append([row[4], row[1], row[10], row[11], "CNY", row[13], row[14], row[15], row[16], "0.008",
                           "operations"])

    return bench.time_resources([(BorrowerResource, borrowers), (GuaranteeResource, guarantees)], len(rows))


def bench_import(rows: int = 100_000, *, anchor_rows: int = 2_000, xlsx: bool = True, stdout=None,
                 repeat: int = 1) -> dict:
    """Time the upload of ``rows`` guarantees against COPY and django-import-export; the figures,
    the ratios and whether each target is met. ``stdout`` gets a table."""
    user, firm, agreement = bench_world()
    return bench.run_bench(
        rows, guarantee_rows(rows), HEADERS, what="guarantee import", ours=time_ours,
        copy=lambda data: time_copy(data, user, firm, agreement),
        import_export=lambda data: time_import_export(data, user, firm, agreement),
        anchor_rows=anchor_rows, xlsx=xlsx, stdout=stdout, repeat=repeat)
