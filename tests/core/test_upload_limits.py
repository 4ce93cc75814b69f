"""Issue 10, point 4: spreadsheet bombs are refused before any parsing, with a clear message."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from openpyxl import Workbook

from core import upload_limits
from core.bulk import ImportRefused
from core.upload_limits import Deadline, Limits, check_upload
from tests import bombs
from tests.factories import UserFactory, firm_user

LIMITS = Limits(max_bytes=100 * 2**20, max_unpacked=768 * 2**20, max_ratio=100, max_columns=200, max_cell=32767,
                max_rows=250_000, parse_seconds=300)


def limits(**changes) -> Limits:
    return Limits(**{**LIMITS.__dict__, **changes})


def refusal(content: bytes, **changes) -> str:
    with pytest.raises(ImportRefused) as caught:
        check_upload(content, limits=limits(**changes))
    return caught.value.message


@pytest.fixture
def no_parsing(monkeypatch):
    """Parsing the file fails the test: the checks must refuse it first."""
    from guarantees import imports

    def parse(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(imports, "read_table", parse)
    monkeypatch.setattr(imports, "stream_table", parse)  # what the importers read with


# --- the three bombs of the issue, through the upload pages ---------------------------------------

BOMBS = {
    "10 million blank rows": (bombs.blank_rows, "compressed"),
    "20,000 x 1,000 cells": (bombs.wide_cells, "compressed"),
    "a 1 GiB string": (bombs.long_string, "unpacks to more than"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("bomb", BOMBS)
def test_bomb_uploaded_as_guarantees_is_refused_with_400_before_parsing(client, no_parsing, bomb):
    make, message = BOMBS[bomb]
    content = make()
    assert len(content) < 1_100_000
    client.force_login(firm_user())
    response = client.post(reverse("guarantees:guarantee-import"),
                           {"file": SimpleUploadedFile("bomb.xlsx", content)})
    assert response.status_code == 400
    [error] = response.context["form"].errors["file"]
    assert message in error


@pytest.mark.django_db
def test_bomb_uploaded_as_loan_projects_is_refused_with_400_before_parsing(client, no_parsing):
    from tests.factories import MemberFactory

    member = MemberFactory()
    user = UserFactory(organisation=member.organisation, roles=["bank_operator"])
    client.force_login(user)
    response = client.post(reverse("riskpool:project-upload"),
                           {"pool": member.pool_id, "file": SimpleUploadedFile("bomb.xlsx", bombs.blank_rows())})
    assert response.status_code == 400
    assert "compressed" in response.context["form"].errors["file"][0]


# --- each check on its own (the others relaxed), on the same bombs ------------------------------------


def test_blank_rows_are_counted_without_building_cells():
    assert "more than 250,000 rows (blank rows count too)" in refusal(
        bombs.blank_rows(), max_ratio=10**6, max_unpacked=2**31)


def test_rows_numbered_past_the_limit_count_as_rows():
    head = bombs.SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row><row r="300000"/>'
    content = bombs.workbook(bombs.Entry.of("xl/worksheets/sheet1.xml", head + bombs.SHEET_TAIL))
    assert "rows" in refusal(content)


def test_a_claimed_dimension_past_the_limits_is_refused():
    for ref, what in (("A1:A1048576", "rows"), ("A1:XFD2", "columns")):
        sheet = bombs.SHEET_HEAD.replace(b"<sheetData>", f'<dimension ref="{ref}"/><sheetData>'.encode())
        content = bombs.workbook(bombs.Entry.of("xl/worksheets/sheet1.xml", sheet + bombs.SHEET_TAIL))
        assert f"more than {'250,000' if what == 'rows' else '200'} {what}" in refusal(content)


def test_cells_without_references_are_counted_into_columns():
    assert "more than 200 columns" in refusal(bombs.wide_cells(), max_ratio=10**6)
    assert "more than 200 columns" in refusal(bombs.wide_cells(rows=2, columns=201))
    check_upload(bombs.wide_cells(rows=2, columns=200), limits=LIMITS)


def test_referenced_cells_past_the_column_limit_are_refused():
    book = Workbook()
    book.active.cell(row=1, column=201, value=1)
    buffer = io.BytesIO()
    book.save(buffer)
    assert "more than 200 columns" in refusal(buffer.getvalue())


def test_a_long_string_is_refused_by_its_length():
    assert "more than 32,767 characters" in refusal(bombs.long_string(), max_ratio=10**6, max_unpacked=2**31)
    assert "more than 32,767 characters" in refusal(bombs.long_string(32768))
    check_upload(bombs.long_string(32767), limits=LIMITS)


def test_cell_length_counts_characters_not_bytes():
    sheet = bombs.SHEET_HEAD + ('<row r="1"><c r="A1" t="inlineStr"><is><t>' + "担" * 32767 + "</t></is></c></row>").encode()
    content = bombs.workbook(bombs.Entry.of("xl/worksheets/sheet1.xml", sheet + bombs.SHEET_TAIL))
    check_upload(content, limits=LIMITS)  # 98,301 bytes, 32,767 characters
    assert "characters" in refusal(content, max_cell=32766)


def test_unpacked_size_and_ratio_are_read_from_the_zip_directory():
    content = bombs.wide_cells(rows=20_000, columns=100)  # 32 MB of XML in a small file
    assert "unpacks to more than 10 MB" in refusal(content, max_unpacked=10 * 2**20)
    assert "compressed" in refusal(content)


def test_a_zip_directory_that_understates_the_size_is_refused():
    content = bytearray(bombs.wide_cells(rows=20_000, columns=100))
    end = content.rfind(b"PK\x05\x06")
    central = content.rfind(b"xl/worksheets/sheet1.xml", 0, end) - 46  # the sheet's central record
    content[central + 24:central + 28] = (1000).to_bytes(4, "little")  # claims 1,000 bytes unpacked
    message = refusal(bytes(content), max_unpacked=10 * 2**20)
    assert "could not be read as an xlsx workbook (BadZipFile)" in message


def test_an_ordinary_workbook_and_csv_pass():
    from guarantees.imports import template_workbook

    check_upload(template_workbook(), limits=LIMITS)
    check_upload(b"a,b\n1,2\n", limits=LIMITS)


def test_csv_lines_are_counted_blank_lines_included():
    content = b"a,b\n" + b"\n" * 3
    check_upload(content, limits=limits(max_rows=3))
    assert "more than 2 rows (blank rows count too)" in refusal(content, max_rows=2)


def test_parsing_stops_at_the_deadline():
    from guarantees.imports import read_table

    deadline = Deadline(0)
    deadline.ends -= 1
    content = ("a,b\n" + "1,2\n" * 1500).encode()
    with pytest.raises(ImportRefused) as caught:
        read_table(content, deadline=deadline)
    assert "took longer than 0 seconds" in caught.value.message


@override_settings(BULK_UPLOAD_MAX_COLUMNS=3, BULK_UPLOAD_MAX_CELL_CHARS=5)
def test_csv_columns_and_cell_length_are_checked_as_it_is_read():
    from guarantees.imports import read_table

    with pytest.raises(ImportRefused, match="more than 3 columns"):
        read_table(b"a,b,c,d\n1,2,3,4\n")
    with pytest.raises(ImportRefused, match="more than 5 characters"):
        read_table(b"a,b\n123456,2\n")


def test_limits_come_from_settings_and_admit_a_quarterly_file_of_250000_rows(settings):
    from_settings = Limits.from_settings()
    assert from_settings.max_rows >= 250_000 and from_settings == Limits(
        max_bytes=settings.BULK_UPLOAD_MAX_BYTES, max_unpacked=settings.BULK_UPLOAD_MAX_UNPACKED_BYTES,
        max_ratio=settings.BULK_UPLOAD_MAX_RATIO, max_columns=settings.BULK_UPLOAD_MAX_COLUMNS,
        max_cell=settings.BULK_UPLOAD_MAX_CELL_CHARS, max_rows=settings.BULK_UPLOAD_MAX_ROWS,
        parse_seconds=settings.BULK_UPLOAD_PARSE_SECONDS)
    assert upload_limits.megabytes(settings.BULK_UPLOAD_MAX_BYTES) == "100"
