"""Bulk loan-project upload (riskpool.imports, /riskpool/projects/upload/): all rows or none,
every error with its row, column and rule (RP-6 names the deadline); files checked by content
and size; only a member bank's operator, only into its own pools (healthchecks' alice / bob /
charlie)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.calendar import shanghai_today
from riskpool import imports
from riskpool.models import LoanProject
from tests.factories import PoolFactory, bank_user, firm_user, make_credit_code

pytestmark = pytest.mark.django_db
URL = "/riskpool/projects/upload/"
HEADERS = ["借款人名称", "证件类型", "证件号码", "借款人类型", "企业规模(填报)", "企业规模依据", "借据号", "贷款类型",
           "贷款本金", "借据日期", "到期日", "年利率(%)", "其他流动资金贷款余额(元)", "贷款特征"]


def row(n: int, **overrides) -> dict:
    disbursed = shanghai_today() - timedelta(days=2)
    values = {
        "借款人名称": f"批量导入企业{n}有限公司", "证件类型": "统一社会信用代码", "证件号码": make_credit_code(),
        "借款人类型": "企业", "企业规模(填报)": "小型", "企业规模依据": "2024 年度财务报表", "借据号": f"JJ-UP-{n:05d}",
        "贷款类型": "企业贷款", "贷款本金": "3000000.00", "借据日期": disbursed.isoformat(),
        "到期日": (disbursed + timedelta(days=365)).isoformat(), "年利率(%)": "4.2",
        "其他流动资金贷款余额(元)": "1500000.00", "贷款特征": "纯信用、首笔贷款",
    }
    values.update(overrides)
    return values


def csv_file(rows, headers=HEADERS, encoding="utf-8-sig", name="loans.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([r.get(h, "") for h in headers])
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


def xlsx_file(rows, headers=HEADERS, name="loans.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for r in rows:
        sheet.append([r.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=imports.XLSX_CONTENT_TYPE)


def post(client, user, upload, pool):
    client.force_login(user)
    return client.post(URL, {"pool": pool.pk, "file": upload})


def test_upload_page_and_template_for_the_bank_operator(client, world):
    client.force_login(world.bank_user)
    page = client.get(URL)
    assert page.status_code == 200 and b'id="import-form"' in page.content
    assert reverse("riskpool:project-upload") == URL
    listing = client.get(reverse("riskpool:project-list"))
    assert URL.encode() in listing.content
    template = client.get(reverse("riskpool:project-upload-template"))
    assert template.status_code == 200 and template["Content-Type"] == imports.XLSX_CONTENT_TYPE
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    rows = [r for r in sheet.iter_rows(values_only=True) if any(v not in (None, "") for v in r)]
    assert list(rows[0]) == imports.TEMPLATE_HEADERS and len(rows) == 2  # headers and one example


def test_the_template_as_downloaded_uploads_its_example(client, world):
    upload = SimpleUploadedFile("t.xlsx", imports.template_workbook(), content_type=imports.XLSX_CONTENT_TYPE)
    response = post(client, world.bank_user, upload, world.pool)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LoanProject.objects.filter(bank=world.bank, loan_no__startswith="JJ-").exclude(pk=world.ballast.pk).count() == 1


@pytest.mark.parametrize("make", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_a_good_file_enters_every_loan(client, world, make):
    before = LoanProject.objects.count()
    response = post(client, world.bank_user, make([row(i) for i in range(1, 4)]), world.pool)
    assert response.status_code == 302
    projects = LoanProject.objects.filter(loan_no__startswith="JJ-UP-").order_by("loan_no")
    assert LoanProject.objects.count() == before + 3 and projects.count() == 3
    first = projects[0]
    assert (first.bank, first.pool, first.entered_on) == (world.bank, world.pool, shanghai_today())
    assert first.borrower.owner == world.bank and first.features == ["pure_credit", "first_loan"]
    assert str(first.annual_rate) == "0.042000" and first.loan_kind == "enterprise"


def test_english_keys_and_a_gbk_csv_are_read(client, world):
    keys = {"借款人名称": "borrower_name", "证件类型": "id_kind", "证件号码": "id_number", "借款人类型": "borrower_kind",
            "企业规模(填报)": "size_entered", "企业规模依据": "size_evidence", "借据号": "loan_no", "贷款类型": "loan_kind",
            "贷款本金": "principal", "借据日期": "disbursed_on", "到期日": "maturity_on", "年利率(%)": "annual_rate_percent",
            "其他流动资金贷款余额(元)": "other_balance", "贷款特征": "features"}
    rows = [{keys[k]: v for k, v in row(i).items()} for i in (1, 2)]
    response = post(client, world.bank_user, csv_file(rows, headers=list(keys.values()), encoding="gb18030"), world.pool)
    assert response.status_code == 302
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 2


@pytest.mark.parametrize("make", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_rp6_one_bad_row_saves_nothing_and_every_error_is_listed(client, world, make):
    late = shanghai_today() - timedelta(days=400)
    rows = [
        row(1),
        row(2, 借据日期=late.isoformat(), 到期日=(late + timedelta(days=700)).isoformat()),  # RP-6
        row(3, 贷款本金="abc", 借据号=""),  # two unreadable cells
        row(4, 借据号="JJ-UP-00001"),  # the same loan note as row 1 (checked once row 1 is in)
        row(5),
    ]
    before = LoanProject.objects.count()
    response = post(client, world.bank_user, make(rows), world.pool)
    assert response.status_code == 400
    assert LoanProject.objects.count() == before
    errors = [(e["row"], e["column"], e["rule"]) for e in response.context["errors"]]
    assert (3, "借据日期", "RP-6") in errors
    assert (4, "借据号", "INPUT") in errors and (4, "贷款本金", "INPUT") in errors
    assert (5, "借据号", "RP-21") in errors
    assert all(r in (3, 4, 5) for r, _c, _r in errors)
    rp6 = next(e for e in response.context["errors"] if e["rule"] == "RP-6")
    from core import calendar as core_calendar
    from riskpool import rules
    deadline = rules.entry_deadline(late, calendar=core_calendar).date.isoformat()
    assert deadline in rp6["message"]
    html = response.content.decode()
    assert 'id="import-error-table"' in html and deadline in html


def test_wrong_content_is_refused_whatever_the_name(client, world):
    pdf = SimpleUploadedFile("loans.xlsx", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n" + b"\x00" * 100,
                             content_type=imports.XLSX_CONTENT_TYPE)
    response = post(client, world.bank_user, pdf, world.pool)
    assert response.status_code == 400
    assert "not an xlsx or csv" in response.content.decode()
    old_excel = SimpleUploadedFile("loans.csv", b"\xd0\xcf\x11\xe0" + b"\x00" * 600, content_type="text/csv")
    assert post(client, world.bank_user, old_excel, world.pool).status_code == 400
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 0


def test_a_file_over_the_size_cap_is_refused(client, world, settings):
    settings.BULK_UPLOAD_MAX_BYTES = 2000
    big = csv_file([row(i) for i in range(1, 30)])
    assert big.size > 2000
    response = post(client, world.bank_user, big, world.pool)
    assert response.status_code == 400 and "larger than" in response.content.decode()
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 0


def test_a_header_without_required_columns_is_refused(client, world):
    response = post(client, world.bank_user, csv_file([row(1)], headers=HEADERS[:5]), world.pool)
    assert response.status_code == 400 and "借据号" in response.content.decode()


def test_another_pool_or_another_role_is_refused(client, world):
    other_pool = PoolFactory()  # alice's bank is not a member of it
    response = post(client, world.bank_user, csv_file([row(1)]), other_pool)
    assert response.status_code == 400 and "pool" in response.context["form"].errors
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 0
    bob = bank_user()  # a bank that is a member of no pool: its form offers none
    assert post(client, bob, csv_file([row(1)]), world.pool).status_code == 400
    charlie = firm_user()
    client.force_login(charlie)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"pool": world.pool.pk, "file": csv_file([row(1)])}).status_code == 403
    assert client.get(reverse("riskpool:project-upload-template")).status_code == 403
    for user in (world.reviewer, world.authority):
        client.force_login(user)
        assert client.get(URL).status_code == 403
    assert LoanProject.objects.filter(loan_no__startswith="JJ-UP-").count() == 0
