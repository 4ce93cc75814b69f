"""Limits a bulk upload must meet BEFORE it is parsed (issue 10, point 4: spreadsheet bombs).

An xlsx is a zip of XML: a few hundred kilobytes can unpack to gigabytes, claim a million blank
rows (which openpyxl's reader hands over one by one, and pads to the claimed width), or hold one
string of a gigabyte. So, before any spreadsheet library sees the file, ``check_upload``:

1. reads the zip's directory only: number of entries, total unpacked size, compression ratio;
2. streams each worksheet's XML in chunks through a few regular expressions (no cells are built,
   the memory used is one chunk): the ``<dimension>`` the sheet claims, the row count (blank
   rows included: ``<row r="10000000"/>`` counts as ten million), the column of every cell, and
   the longest run of text (a cell's length);
3. streams the shared strings the same way for the longest string.

A csv is checked for its line count (blank lines included); its columns and cell length are
checked as it is read. Parsing has a deadline too (``Deadline``). Every refusal is an
``ImportRefused`` with a message in the user's language, which the upload pages show on the
form with status 400.

The limits come from settings (environment variables ``BULK_UPLOAD_*``, see config/settings).
"""
from __future__ import annotations

import re
import time
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings

from core import i18n_text
from core.bulk import ImportRefused

CHUNK = 1 << 20
MAX_ZIP_ENTRIES = 1000
# Below this unpacked size the ratio is not judged: a small workbook of empty styles can compress
# very well and harms no one.
RATIO_FLOOR = 8 * 1024 * 1024

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\sref="([^"]*)"')
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_R = re.compile(rb'\sr="(\d+)"')
_CELL_R = re.compile(rb'\sr="([A-Za-z]+)\d*"')
_PLAIN_ROW_R = re.compile(rb'<row r="(\d+)"')
_PLAIN_CELL_LETTERS = re.compile(rb'<c r="([A-Za-z]+)')
_TOKEN = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s/>])([^>]*)>|</(?:\w+:)?row>")
_REF = re.compile(r"\$?([A-Za-z]{1,7})\$?(\d{1,10})")
# UTF-8 continuation bytes: deleting them leaves one byte per character.
_CONTINUATION = bytes(range(0x80, 0xC0))


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_unpacked: int
    max_ratio: int
    max_columns: int
    max_cell: int
    max_rows: int
    parse_seconds: float

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_bytes=settings.BULK_UPLOAD_MAX_BYTES,
            max_unpacked=settings.BULK_UPLOAD_MAX_UNPACKED_BYTES,
            max_ratio=settings.BULK_UPLOAD_MAX_RATIO,
            max_columns=settings.BULK_UPLOAD_MAX_COLUMNS,
            max_cell=settings.BULK_UPLOAD_MAX_CELL_CHARS,
            max_rows=settings.BULK_UPLOAD_MAX_ROWS,
            parse_seconds=settings.BULK_UPLOAD_PARSE_SECONDS,
        )


class Deadline:
    """Reading and parsing a file stops with a clear message when it takes longer than the limit."""

    def __init__(self, seconds: float | None = None):
        self.seconds = Limits.from_settings().parse_seconds if seconds is None else seconds
        self.ends = time.monotonic() + self.seconds

    @contextmanager
    def paused(self):
        """Time spent inside does not count: a streamed import checks and writes each chunk of
        rows between reads, and only the reading is what the limit is for."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.ends += time.monotonic() - started

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise ImportRefused(i18n_text.gettext_lazy("Reading the file took longer than %(seconds)s seconds, the limit. "
                                  "Split it into smaller files.") % {"seconds": f"{self.seconds:g}"})


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g}"


def too_many_rows(max_rows: int) -> ImportRefused:
    return ImportRefused(i18n_text.gettext_lazy("The file has more than %(max)s rows (blank rows count too). Split it into smaller files.")
                         % {"max": f"{max_rows:,}"})


def too_many_columns(max_columns: int) -> ImportRefused:
    return ImportRefused(i18n_text.gettext_lazy("The file has more than %(max)s columns. Upload the template's columns only.")
                         % {"max": f"{max_columns:,}"})


def cell_too_long(max_cell: int) -> ImportRefused:
    return ImportRefused(i18n_text.gettext_lazy("A cell of the file holds more than %(max)s characters, the limit.")
                         % {"max": f"{max_cell:,}"})


def check_upload(content: bytes, *, limits: Limits | None = None, deadline: Deadline | None = None) -> int:
    """Refuse (ImportRefused) a file that passes a limit, before it is parsed. Returns the rows
    the file claims, blank ones and the header included (an upper bound of its data rows): the
    upload pages decide by it whether the file is entered at once or in the background."""
    limits = limits or Limits.from_settings()
    deadline = deadline or Deadline(limits.parse_seconds)
    if len(content) > limits.max_bytes:
        raise ImportRefused(i18n_text.gettext_lazy("The file is larger than %(max)s MB.") % {"max": megabytes(limits.max_bytes)})
    if content.startswith(b"PK\x03\x04"):
        return check_xlsx(content, limits, deadline)
    return check_csv(content, limits)


def check_csv(content: bytes, limits: Limits) -> int:
    """A csv is its own unpacked size; its lines (blank lines included) are counted without
    reading a field. A line break inside a quoted cell counts as a line: an upper bound."""
    lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    if lines > limits.max_rows + 1:  # the header row is not a data row
        raise too_many_rows(limits.max_rows)
    return lines


def check_xlsx(content: bytes, limits: Limits, deadline: Deadline) -> int:
    try:
        archive = zipfile.ZipFile(BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return 0  # not a zip after all: the reader says so in its own words
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ImportRefused(i18n_text.gettext_lazy("The workbook holds more than %(max)s parts. It is not a plain spreadsheet.")
                            % {"max": MAX_ZIP_ENTRIES})
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_unpacked:
        raise ImportRefused(i18n_text.gettext_lazy("The workbook unpacks to more than %(max)s MB, the limit. Split it into smaller files.")
                            % {"max": megabytes(limits.max_unpacked)})
    if unpacked > RATIO_FLOOR and unpacked > limits.max_ratio * len(content):
        raise ImportRefused(i18n_text.gettext_lazy("The workbook is compressed %(ratio)s times, more than the limit of %(max)s: "
                              "it holds far more (empty) cells than it shows. Copy the data into the template "
                              "and upload that.") % {"ratio": unpacked // max(len(content), 1), "max": limits.max_ratio})
    rows = 0
    try:
        with archive:
            for entry in entries:
                name = entry.filename.lower()
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    rows = max(rows, _scan_sheet(archive, entry, limits, deadline))
                elif name.startswith("xl/") and name.endswith("sharedstrings.xml"):
                    _scan_text(archive, entry, limits, deadline)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # A damaged member, a bad checksum, an encrypted or unknown compression: not a workbook.
        raise ImportRefused(i18n_text.gettext_lazy("The file could not be read as an xlsx workbook (%(error)s).")
                            % {"error": type(exc).__name__}) from exc
    return rows


def _chunks(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: Limits, deadline: Deadline):
    """The entry's bytes, a chunk at a time, each chunk ending at a tag's end ('>') so no tag is
    cut in two; the text between tags is carried to the next chunk only up to the cell limit."""
    carry = b""
    read = 0
    with archive.open(entry) as stream:
        while True:
            deadline.check()
            block = stream.read(CHUNK)
            read += len(block)
            if read > limits.max_unpacked:  # a directory that lies about the size
                raise ImportRefused(i18n_text.gettext_lazy("The workbook unpacks to more than %(max)s MB, the limit. "
                                      "Split it into smaller files.") % {"max": megabytes(limits.max_unpacked)})
            if not block:
                if carry:
                    yield carry
                return
            data = carry + block
            cut = data.rfind(b">") + 1
            if cut == 0:
                carry = data
                _check_text_run(carry, limits)
                continue
            yield data[:cut]
            carry = data[cut:]


def _check_text_run(data: bytes, limits: Limits) -> None:
    """No run of bytes without a tag (a cell's value, a shared string) longer than the limit in
    characters (UTF-8: a character is one byte that is not a continuation byte).

    A run longer than the limit covers a whole window of half its length, so it is enough to
    look for a '<' in each such window (a memchr); only a window without one is measured."""
    window = max(1, (limits.max_cell + 1) // 2)
    position = 0
    while position < len(data):
        if data.find(b"<", position, position + window) < 0:
            start = data.rfind(b"<", 0, position) + 1
            end = data.find(b"<", position + window)
            run = data[start:end if end >= 0 else len(data)]
            run = run[run.find(b">") + 1:]  # the text after the tag the run starts in
            if len(run) > limits.max_cell and len(run.translate(None, _CONTINUATION)) > limits.max_cell:
                raise cell_too_long(limits.max_cell)
            position = end if end >= 0 else len(data)
            continue
        position += window


def _scan_text(archive, entry, limits: Limits, deadline: Deadline) -> None:
    for chunk in _chunks(archive, entry, limits, deadline):
        _check_text_run(chunk, limits)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (letter - 64)
    return number


def _scan_sheet(archive, entry, limits: Limits, deadline: Deadline) -> int:
    max_rows = limits.max_rows + 1  # the header row
    rows = 0  # rows seen, or the highest row number given, whichever is larger
    first = True
    for chunk in _chunks(archive, entry, limits, deadline):
        if first:
            first = False
            match = _DIMENSION.search(chunk)
            if match:
                _check_dimension(match.group(1).decode("ascii", "replace"), limits)
        _check_text_run(chunk, limits)
        # Fast path for the usual form (<row r="5" …>, <c r="B5" …>, no namespace prefix): literal
        # searches only. Anything else is read by the general expressions.
        prefixed = b":row" in chunk or b":c " in chunk
        numbers = [] if prefixed else _PLAIN_ROW_R.findall(chunk)
        if prefixed or len(numbers) != chunk.count(b"<row ") + chunk.count(b"<row>") + chunk.count(b"<row/>"):
            numbers = [number.group(1) if number else None for number in map(_ROW_R.search, _ROW.findall(chunk))]
        for number in numbers:
            rows = max(rows + 1, int(number)) if number else rows + 1
            if rows > max_rows:
                raise too_many_rows(limits.max_rows)
        letters = [] if prefixed else _PLAIN_CELL_LETTERS.findall(chunk)
        if letters and max(map(_column_number, set(letters))) > limits.max_columns:
            raise too_many_columns(limits.max_columns)
        if prefixed or len(letters) != chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>"):
            _count_unnumbered_cells(chunk, limits)
    return rows


def _count_unnumbered_cells(chunk: bytes, limits: Limits) -> None:
    """Cells without a reference take the next column: count them row by row."""
    column = 0
    for match in _TOKEN.finditer(chunk):
        kind = match.group(1)
        if kind is None or kind == b"row":
            column = 0
            continue
        number = _CELL_R.search(match.group(2))
        column = _column_number(number.group(1)) if number else column + 1
        if column > limits.max_columns:
            raise too_many_columns(limits.max_columns)


def _check_dimension(ref: str, limits: Limits) -> None:
    """The size a sheet claims: a spreadsheet reader trusts it and pads every row to it."""
    corners = _REF.findall(ref)
    if not corners:
        return
    letters, number = corners[-1]
    if int(number) > limits.max_rows + 1:
        raise too_many_rows(limits.max_rows)
    if _column_number(letters.encode("ascii")) > limits.max_columns:
        raise too_many_columns(limits.max_columns)
