"""Bulk upload of guarantees from xlsx and csv files (guarantees/imports.py and its page)."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.bulk import BulkRejected
from guarantees import imports
from guarantees.imports import Cell, ImportRefused
from guarantees.models import Borrower, Guarantee
from tests.factories import AgreementFactory, UserFactory, firm_user, make_credit_code

pytestmark = pytest.mark.django_db

HEADERS = imports.TEMPLATE_HEADERS
# A tiny valid PNG: what a person might rename to .xlsx.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture
def alice():
    return firm_user()


@pytest.fixture
def agreement(alice):
    return AgreementFactory(firm=alice.organisation, code="YD-2024-01")


@pytest.fixture
def charlie():
    return firm_user()


def row(n: int, **overrides) -> dict:
    """One guarantee as a mapping of template header to cell value."""
    values = {
        "合作协议编号": "YD-2024-01",
        "担保合同编号": f"DB-IMP-{n:04d}",
        "融资人名称": f"导入测试企业{n}",
        "证件类型": "统一社会信用代码",
        "证件号码": make_credit_code(),
        "融资人类型": "企业",
        "行业": "工业",
        "从业人员(人)": 50,
        "营业收入(元)": "5000000",
        "资产总额(元)": "3000000",
        "企业规模(填报)": "",
        "企业规模依据": "",
        "是否三农": "否",
        "是否战略性新兴产业": "是",
        "是否政府融资平台": "否",
        "贷款本金(元)": "1000000",
        "担保金额(元)": "800000.50",
        "币种": "CNY",
        "贷款起始日": "2024-03-01",
        "贷款到期日": "2025-02-28",
        "担保起始日": "2024/3/1",
        "担保到期日": "2025年2月28日",
        "担保费率(%)": "0.8",
        "其他收费(元)": "",
        "用途": "经营",
        "是否再担保": "是",
        "是否纳入国家融资担保基金合作范围": "否",
        "是否银行推荐": "Y",
    }
    values.update(overrides)
    return values


def xlsx_bytes(rows: list[dict], headers=HEADERS, percent_cells: set[str] = frozenset()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for values in rows:
        sheet.append([values.get(h) for h in headers])
    for col, header in enumerate(headers, start=1):
        if header in percent_cells:
            for r in range(2, len(rows) + 2):
                sheet.cell(row=r, column=col).number_format = "0.00%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[dict], encoding: str, headers=HEADERS) -> bytes:
    lines = [",".join(headers)]
    for values in rows:
        lines.append(",".join(str(values.get(h, "")) for h in headers))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def parse(content: bytes) -> imports.ParsedFile:
    return imports.parse_table(imports.read_table(content))


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


# --- parsing ----------------------------------------------------------------------------------


def test_xlsx_parses_into_service_rows():
    first = row(1)
    parsed = parse(xlsx_bytes([first, row(2)]))
    assert [r["row"] for r in parsed.rows] == [2, 3]
    one = parsed.rows[0]
    assert one["agreement_code"] == "YD-2024-01"
    b, d = one["borrower"], one["data"]
    assert (b.name, b.id_kind, b.id_number, b.kind, b.industry) == (
        "导入测试企业1", "credit_code", first["证件号码"], "enterprise", "industry")
    assert b.employees == 50 and b.revenue == Decimal("5000000.00") and b.is_strategic_emerging
    assert not b.is_agricultural and not b.is_government_platform
    assert d.amount == Decimal("800000.50") and d.loan_principal == Decimal("1000000.00")
    assert d.start == date(2024, 3, 1) and d.end == date(2025, 2, 28)
    assert d.fee_rate == Decimal("0.008000") and str(d.fee_rate) == "0.008000"
    assert d.other_fees == Decimal("0") and d.purpose == "operations"
    assert d.reguaranteed and not d.national_fund_scope and d.recommended_by_bank


def test_xlsx_native_cells_dates_numbers_and_percent_format():
    values = row(1, **{
        "贷款起始日": datetime(2024, 3, 1), "担保起始日": date(2024, 3, 1), "担保金额(元)": 800000.5,
        "贷款本金(元)": 1000000, "担保费率(%)": 0.008, "是否再担保": True,
    })
    parsed = parse(xlsx_bytes([values], percent_cells={"担保费率(%)"}))
    d = parsed.rows[0]["data"]
    assert d.loan_start == date(2024, 3, 1) and d.amount == Decimal("800000.50")
    assert d.fee_rate == Decimal("0.008000")  # a cell shown as 0.80% holds 0.008
    assert d.reguaranteed


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_parses_in_utf8_with_or_without_bom_and_gb18030(encoding):
    parsed = parse(csv_bytes([row(1), row(2, 融资人类型="个体工商户", 证件类型="身份证", 证件号码="11010519491231002X")],
                             encoding))
    assert len(parsed.rows) == 2
    assert parsed.rows[0]["borrower"].name == "导入测试企业1"
    second = parsed.rows[1]["borrower"]
    assert (second.kind, second.id_kind, second.id_number) == ("individual_business", "id_card", "11010519491231002X")


def test_english_field_keys_are_accepted_as_headers():
    by_key = {c.header: c.key for c in imports.COLUMNS}
    values = {by_key[h]: v for h, v in row(1).items()}
    values["fee_rate_percent"] = "0.8"
    parsed = parse(csv_bytes([values], "utf-8", headers=[by_key[h] for h in HEADERS]))
    assert parsed.rows[0]["data"].fee_rate == Decimal("0.008000")


def test_fee_rate_as_a_fraction_column():
    headers = [h if h != "担保费率(%)" else "fee_rate" for h in HEADERS]
    values = row(1)
    values["fee_rate"] = "0.0125"
    parsed = parse(csv_bytes([values], "utf-8", headers=headers))
    assert parsed.rows[0]["data"].fee_rate == Decimal("0.012500")


def test_empty_rows_are_skipped_and_numbering_follows_the_sheet():
    content = xlsx_bytes([row(1), {}, row(3)])
    assert [r["row"] for r in parse(content).rows] == [2, 4]


@pytest.mark.parametrize("header, value, message", [
    ("担保起始日", "2024-13-45", "is not a date"),
    ("担保金额(元)", "八十万", "is not a number"),
    ("担保金额(元)", "100.001", "at most 2 decimal places"),
    ("担保费率(%)", "0.80001", "at most 4 decimal places"),
    ("融资人类型", "公司", "is not one of"),
    ("是否三农", "也许", "是 or 否"),
    ("担保合同编号", "", "required"),
])
def test_cells_that_cannot_be_read_become_row_errors(header, value, message):
    parsed = parse(csv_bytes([row(1), row(2, **{header: value})], "utf-8"))
    assert "errors" not in parsed.rows[0]
    errors = parsed.rows[1]["errors"]
    assert [(e.row, e.column) for e in errors] == [(3, header)]
    assert message in errors[0].message


def test_missing_required_columns_refuse_the_file():
    headers = [h for h in HEADERS if h not in ("担保金额(元)", "担保费率(%)")]
    with pytest.raises(ImportRefused, match="担保金额\\(元\\)、担保费率\\(%\\)"):
        parse(csv_bytes([row(1)], "utf-8", headers=headers))


def test_header_only_file_is_refused():
    with pytest.raises(ImportRefused, match="no guarantees"):
        parse(xlsx_bytes([]))


@pytest.mark.parametrize("content, message", [
    (PNG, "image/png"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97"),
    (b"PK\x03\x04" + b"\x00" * 100, "could not be read as an xlsx"),
    (b"abc\x00def\x00", "binary data"),
    (b"", "empty"),
])
def test_files_that_are_not_xlsx_or_csv_by_content_are_refused(content, message):
    with pytest.raises(ImportRefused, match=message):
        imports.read_table(content)


def test_row_cap():
    content = csv_bytes([row(n) for n in range(1, 5)], "utf-8")
    with pytest.raises(ImportRefused, match="more than 3 rows"):
        imports.read_table(content, max_rows=3)
    with pytest.raises(ImportRefused, match="more than 3 rows"):
        imports.read_table(xlsx_bytes([row(n) for n in range(1, 5)]), max_rows=3)
    assert len(imports.read_table(content, max_rows=4).rows) == 4


# --- the page ---------------------------------------------------------------------------------


def test_import_page_saves_every_row(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": upload("担保业务.xlsx", xlsx_bytes([row(1), row(2), row(3)]))})
    assert response.status_code == 302
    assert Guarantee.objects.filter(firm=alice.organisation).count() == 3
    page = client.get(response["Location"]).content.decode()
    assert "3 guarantees imported." in page and reverse("guarantees:guarantee-list") in page


def test_import_gb18030_csv_through_the_page(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": upload("guarantees.csv", csv_bytes([row(1)], "gb18030"))})
    assert response.status_code == 302
    assert Guarantee.objects.get().borrower.name == "导入测试企业1"


def test_a_file_with_bad_rows_saves_nothing_and_lists_every_error(client, alice, agreement):
    client.force_login(alice)
    rows = [
        row(1),
        row(2, 担保起始日="2024-02-30"),
        row(3, **{"担保金额(元)": "2000000"}),
        row(4, 合作协议编号="YD-NOT-MINE"),
        row(5),
    ]
    before = (Guarantee.objects.count(), Borrower.objects.count())
    response = client.post(reverse("guarantees:guarantee-import"), {"file": upload("bad.xlsx", xlsx_bytes(rows))})
    assert response.status_code == 400
    errors = [(e["row"], e["column"], e["rule"]) for e in response.context["errors"]]
    assert errors == [(3, "担保起始日", "INPUT"), (4, "担保金额(元)", "INPUT"), (5, "合作协议编号", "INPUT")]
    messages = [e["message"] for e in response.context["errors"]]
    assert "is not a date" in messages[0]
    assert messages[1] == "The guaranteed amount cannot exceed the loan principal."
    assert "YD-NOT-MINE" in messages[2]
    page = response.content.decode()
    assert 'id="import-error-table"' in page and "担保金额(元)" in page
    assert (Guarantee.objects.count(), Borrower.objects.count()) == before


def test_service_errors_are_reported_under_the_files_own_headers(client, alice, agreement):
    client.force_login(alice)
    by_key = {c.header: c.key for c in imports.COLUMNS}
    bad = {by_key[h]: v for h, v in row(1, 用途="政府债券").items()}
    content = csv_bytes([bad], "utf-8", headers=[by_key[h] for h in HEADERS])
    response = client.post(reverse("guarantees:guarantee-import"), {"file": upload("x.csv", content)})
    assert response.status_code == 400
    assert [(e["row"], e["column"], e["rule"]) for e in response.context["errors"]] == [(2, "purpose", "GU-12")]
    assert not Guarantee.objects.exists()


def test_duplicate_contract_numbers_in_one_file(alice, agreement):
    content = xlsx_bytes([row(1), row(1)])
    with pytest.raises(BulkRejected) as caught:
        imports.import_guarantees(user=alice, firm=alice.organisation, upload=upload("d.xlsx", content))
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "担保合同编号")]
    assert not Guarantee.objects.exists()


def test_png_renamed_xlsx_is_refused_with_a_clear_message(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-import"), {"file": upload("guarantees.xlsx", PNG)})
    assert response.status_code == 400
    [message] = response.context["form"].errors["file"]
    assert "not an xlsx or csv file" in message and "image/png" in message
    assert message in response.content.decode()
    assert not Guarantee.objects.exists()


@override_settings(BULK_UPLOAD_MAX_ROWS=2)
def test_a_file_over_the_row_cap_is_refused(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": upload("many.csv", csv_bytes([row(1), row(2), row(3)], "utf-8-sig"))})
    assert response.status_code == 400
    assert "more than 2 rows" in response.context["form"].errors["file"][0]
    assert not Guarantee.objects.exists()


@override_settings(BULK_UPLOAD_MAX_BYTES=1000)
def test_a_file_over_the_size_cap_is_refused(client, alice, agreement):
    client.force_login(alice)
    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": upload("big.csv", csv_bytes([row(n) for n in range(20)], "utf-8"))})
    assert response.status_code == 400
    assert "larger than" in response.context["form"].errors["file"][0]


def test_only_firm_operators_import(client, alice, agreement):
    bank_person = UserFactory(organisation=agreement.bank, roles=["bank_operator"])
    client.force_login(bank_person)
    response = client.post(reverse("guarantees:guarantee-import"), {"file": upload("a.xlsx", xlsx_bytes([row(1)]))})
    assert response.status_code == 403
    assert not Guarantee.objects.exists()


def test_another_firms_agreement_number_is_unknown(client, charlie, agreement):
    """The file names alice's agreement; charlie's import cannot reach it."""
    client.force_login(charlie)
    response = client.post(reverse("guarantees:guarantee-import"), {"file": upload("a.xlsx", xlsx_bytes([row(1)]))})
    assert response.status_code == 400
    assert [(e["row"], e["column"]) for e in response.context["errors"]] == [(2, "合作协议编号")]
    assert not Guarantee.objects.exists()


def test_template_download_has_the_chinese_header_row(client, alice):
    client.force_login(alice)
    response = client.get(reverse("guarantees:guarantee-import-template"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    header = [c.value for c in workbook.worksheets[0][1]]
    assert header == HEADERS and header[1] == "担保合同编号"
    # The template itself round-trips: filled in, it imports.
    assert imports.read_table(response.content).header == HEADERS


def test_parsers_directly():
    assert imports.parse_percent(Cell("0.8%")) == Decimal("0.008000")
    assert imports.parse_money(Cell("1,234,567.8")) == Decimal("1234567.80")
    assert imports.parse_date(Cell("20240301")) == date(2024, 3, 1)
    assert imports.parse_bool(Cell(None)) is False
    assert imports.parse_identifier(Cell(91110000)) == "91110000"
    with pytest.raises(imports.CellError, match="as text"):
        imports.parse_identifier(Cell(1.1010519491231e17))
