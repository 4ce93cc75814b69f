"""The three spreadsheet bombs of issue 10 (point 4), built in a fraction of a second.

Each is a real xlsx (openpyxl opens the small versions and reads what they claim). The big part
is deflated once per megabyte block with a full flush, so the compressed block can be repeated:
a 1 GiB string costs one megabyte of compression work, not a gigabyte.
"""
from __future__ import annotations

import struct
import zlib

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT}.sharedStrings+xml"/>'
    "</Types>"
).encode()
ROOT_RELS = (
    f'<Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
).encode()
WORKBOOK = (
    f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
).encode()
WORKBOOK_RELS = (
    f'<Relationships xmlns="{PACKAGE_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
).encode()
SHEET_HEAD = f'<worksheet xmlns="{MAIN}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"
STRINGS_HEAD = f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
STRINGS_TAIL = b"</t></si></sst>"
EMPTY_STRINGS = f'<sst xmlns="{MAIN}" count="0" uniqueCount="0"/>'.encode()
# zlib.crc32 of STRINGS_HEAD + b"A" * 2**30 + STRINGS_TAIL, computed once (it takes a second).
GIB_STRINGS_CRC = 0x93F8D2DD
MIB = 1 << 20


class Entry:
    """One zip member: its deflated bytes, CRC and unpacked size."""

    def __init__(self, name: str, raw: bytes, crc: int, size: int):
        self.name, self.raw, self.crc, self.size = name.encode(), raw, crc, size

    @classmethod
    def of(cls, name: str, data: bytes) -> Entry:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return cls(name, packer.compress(data) + packer.flush(), zlib.crc32(data), len(data))

    @classmethod
    def repeated(cls, name: str, head: bytes, block: bytes, times: int, tail: bytes, crc: int | None = None) -> Entry:
        """head + block * times + tail, deflating ``block`` once."""
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
        first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        second = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
        assert first == second, "a full flush makes the deflated block repeatable"
        raw = start + first * times + packer.compress(tail) + packer.flush()
        if crc is None:
            crc = zlib.crc32(head)
            for _ in range(times):
                crc = zlib.crc32(block, crc)
            crc = zlib.crc32(tail, crc)
        return cls(name, raw, crc, len(head) + len(block) * times + len(tail))


def zip_of(entries: list[Entry]) -> bytes:
    """A plain zip (deflate, no zip64: every member below 4 GiB)."""
    out, central = bytearray(), bytearray()
    for entry in entries:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, entry.crc, len(entry.raw), entry.size,
                           len(entry.name), 0) + entry.name + entry.raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, entry.crc, len(entry.raw),
                               entry.size, len(entry.name), 0, 0, 0, 0, 0, offset) + entry.name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + end)


def workbook(sheet: Entry, strings: Entry | None = None) -> bytes:
    return zip_of([
        Entry.of("[Content_Types].xml", CONTENT_TYPES), Entry.of("_rels/.rels", ROOT_RELS),
        Entry.of("xl/workbook.xml", WORKBOOK), Entry.of("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        sheet, strings or Entry.of("xl/sharedStrings.xml", EMPTY_STRINGS),
    ])


def blank_rows(rows: int = 10_000_000) -> bytes:
    """A header cell, then ``rows`` blank rows (``<row/>``): 10 million rows in about 60 KB."""
    per_block = MIB // 6
    head = SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    blocks, rest = divmod(rows, per_block)
    return workbook(Entry.repeated("xl/worksheets/sheet1.xml", head, b"<row/>" * per_block, blocks,
                                   b"<row/>" * rest + SHEET_TAIL))


def wide_cells(rows: int = 20_000, columns: int = 1_000) -> bytes:
    """``rows`` rows of ``columns`` numeric cells, no references (every cell takes the next column)."""
    row = b"<row>" + b"<c><v>1</v></c>" * columns + b"</row>"
    per_block = max(1, MIB // len(row))
    blocks, rest = divmod(rows, per_block)
    return workbook(Entry.repeated("xl/worksheets/sheet1.xml", SHEET_HEAD, row * per_block, blocks,
                                   row * rest + SHEET_TAIL))


def long_string(size: int = 1 << 30) -> bytes:
    """One shared string of ``size`` characters, used by cell A1."""
    sheet = Entry.of("xl/worksheets/sheet1.xml", SHEET_HEAD + b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + SHEET_TAIL)
    blocks, rest = divmod(size, MIB)
    crc = GIB_STRINGS_CRC if size == 1 << 30 else None
    return workbook(sheet, Entry.repeated("xl/sharedStrings.xml", STRINGS_HEAD, b"A" * MIB, blocks,
                                          b"A" * rest + STRINGS_TAIL, crc=crc))
