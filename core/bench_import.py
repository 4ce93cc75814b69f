"""What the two bulk-upload benchmarks share (``riskpool.bench_import``, ``guarantees.bench_import``):
timing an importer in a fresh process (its own peak memory), COPY of the same rows as the
anchor, the targets of issue 12 and the report. Nothing here knows about either import."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction

TARGETS = {"vs_import_export": 10.0, "vs_copy": 5.0, "peak_mb": 300.0}


def rolled_back(func: Callable):
    """``func()`` in a transaction that is rolled back: its writes are measured, not kept."""
    with transaction.atomic():
        result = func()
        transaction.set_rollback(True)
    return result


def count_queries(func: Callable):
    """``func()`` and how many statements it sent (a wrapper that counts; nothing is kept)."""
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        result = func()
    return result, count[0]


def run_importer(importer: str, content: bytes) -> dict:
    """The importer ``importer`` (a dotted path: ``func(content) -> rows saved``) on ``content``,
    rolled back, in this process: its time, its statements and the process's peak resident memory."""
    from django.utils.module_loading import import_string

    func = import_string(importer)
    started = time.perf_counter()
    saved, queries = count_queries(lambda: rolled_back(lambda: func(content)))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "saved": saved, "queries": queries, "peak_mb": peak_mb()}


def peak_mb() -> float:
    """This process's peak resident memory in MB: the high-water mark of its own address space
    (``VmHWM``). Not ``ru_maxrss``: a child started by ``subprocess`` (vfork, then exec) inherits
    in it the parent's resident size at the start, so a bench parent holding 600 MB of rows made
    every import it measured look 600 MB large."""
    import resource

    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


CHILD = """
import json, sys
import django
django.setup()
from core.bench_import import run_importer
with open(sys.argv[2], "rb") as f:
    content = f.read()
print(json.dumps(run_importer(sys.argv[1], content)))
"""


def time_in_child(importer: str, content: bytes) -> dict:
    """``run_importer`` in a fresh Python process, so that the peak resident memory is the
    import's (Django loaded, the file read, the import), as a worker would have it."""
    with tempfile.NamedTemporaryFile(suffix=".upload") as stored:
        stored.write(content)
        stored.flush()
        done = subprocess.run([sys.executable, "-c", CHILD, importer, stored.name], capture_output=True, text=True,
                              env={**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the import failed in the child process: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (date, datetime)):
        value = value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_lines(objs, fields) -> list[str]:
    return ["\t".join(copy_value(getattr(obj, f.attname)) for f in fields) + "\n" for obj in objs]


def copy(model, columns: list[str], lines) -> None:
    payload = io.StringIO("".join(lines))
    with connection.cursor() as cursor:
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        cursor.cursor.copy_expert(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN", payload)


def columns_of(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def audit_copy_lines(*, kind: str, items, actor, organisation, at) -> list[str]:
    """The audit rows an import writes, one per (pk, summary, after), as COPY lines."""
    from core.models import AuditEvent

    names = [f.attname for f in columns_of(AuditEvent)]
    base = {"at": at, "actor_id": actor.pk, "actor_label": actor.get_username(), "organisation_id": organisation.pk,
            "action": "create", "before": None, "object_type": kind}
    return ["\t".join(copy_value({**base, "object_id": str(pk), "summary": summary, "after": after}[n]) for n in names)
            + "\n" for pk, summary, after in items]


def audit_columns() -> list[str]:
    from core.models import AuditEvent

    return [f.column for f in columns_of(AuditEvent)]


def timed(func: Callable) -> dict:
    started = time.perf_counter()
    saved = rolled_back(func)
    return {"seconds": time.perf_counter() - started, "saved": saved}


def repeated(measure: Callable[[], dict], times: int) -> dict:
    """``measure()`` ``times`` times (each a fresh process): the median time, the highest peak
    memory, and every run's time and peak (``runs``), so a peak that happens once shows."""
    runs = [measure() for _ in range(max(times, 1))]
    by_time = sorted(runs, key=lambda run: run["seconds"])
    figures = dict(by_time[len(by_time) // 2])
    figures["peak_mb"] = max(run["peak_mb"] for run in runs)
    figures["runs"] = [(run["seconds"], run["peak_mb"]) for run in runs]
    return figures


def judge(figures: dict) -> dict:
    """The ratios of issue 12 and whether each target is met (the slower of csv and xlsx counts)."""
    ours = max(figures["ours_csv"]["seconds"], figures.get("ours_xlsx", {}).get("seconds", 0))
    figures["ratios"] = {
        "vs_import_export": figures["import_export"]["seconds"] / ours,
        "vs_copy": ours / figures["copy"]["seconds"],
        "peak_mb": max(figures["ours_csv"]["peak_mb"], figures.get("ours_xlsx", {}).get("peak_mb", 0)),
    }
    figures["met"] = {
        "vs_import_export": figures["ratios"]["vs_import_export"] >= TARGETS["vs_import_export"],
        "vs_copy": figures["ratios"]["vs_copy"] <= TARGETS["vs_copy"],
        "peak_mb": figures["ratios"]["peak_mb"] <= TARGETS["peak_mb"],
    }
    return figures


def report(figures: dict, what: str) -> str:
    lines = [f"{what}, {figures['rows']:,} rows"]
    for key, label in (("ours_csv", "ours, csv"), ("ours_xlsx", "ours, xlsx"), ("copy", "COPY (anchor)"),
                       ("import_export", "django-import-export (anchor)")):
        if key in figures:
            item = figures[key]
            extra = f"  peak {item['peak_mb']:.0f} MB, {item['queries']} queries" if "peak_mb" in item else ""
            if key.startswith("ours_"):
                extra += f", {item['seconds'] / figures['copy']['seconds']:.1f}x COPY"
            if len(item.get("runs", ())) > 1:
                extra += "; runs " + ", ".join(f"{sec:.1f} s {mb:.0f} MB" for sec, mb in item["runs"])
            if "sample_rows" in item:
                extra = f"  (measured on {item['sample_rows']:,} rows, scaled)"
            lines.append(f"  {label:<32} {item['seconds']:>9.1f} s{extra}")
    r, met = figures["ratios"], figures["met"]
    lines.append(f"  vs django-import-export  {r['vs_import_export']:.1f}x faster "
                 f"(target >= {TARGETS['vs_import_export']:g}x) {'ok' if met['vs_import_export'] else 'MISSED'}")
    lines.append(f"  vs COPY                  {r['vs_copy']:.1f}x slower (target <= {TARGETS['vs_copy']:g}x) "
                 f"{'ok' if met['vs_copy'] else 'MISSED'}")
    lines.append(f"  peak memory              {r['peak_mb']:.0f} MB (target <= {TARGETS['peak_mb']:g} MB) "
                 f"{'ok' if met['peak_mb'] else 'MISSED'}")
    return "\n".join(lines) + "\n"


def xlsx_bytes(headers: list[str], rows) -> bytes:
    """The benchmark's upload file, written by the one export writer (core.exports)."""
    from core.exports import Workbook

    book = Workbook(write_only=True)
    sheet = book.sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    return book.to_bytes()


def csv_bytes(headers: list[str], rows) -> bytes:
    from core.exports import csv_bytes as export_csv

    return export_csv(headers=headers, rows=rows)


IMPORT_ROWS_OPTION = ("--import-rows", {"type": int, "default": 100_000,
                                        "help": "rows of each bulk-upload benchmark (issue 12: 100,000)"})
IMPORT_REPEAT_OPTION = ("--import-repeat", {"type": int, "default": 1,
                                            "help": "runs of our import per file kind (the median time, the "
                                                    "highest peak memory)"})


def bench_rows(figures: dict, what: str) -> list:
    """The figures of ``judge`` as lines of the ``manage.py bench`` table (times in ms, as the
    table's anchors are): ours per file kind against COPY, against django-import-export, and
    the peak memory of the slower kind's process."""
    from core.bench_parts import Row

    ours = max(("ours_csv", "ours_xlsx"), key=lambda key: figures.get(key, {}).get("seconds", -1))
    ratios = figures["ratios"]
    sample = figures["import_export"].get("sample_rows", figures["rows"])
    rows = [
        Row(f"{what}, {figures['rows']:,} rows, {key[5:]} [{figures[key]['queries']} queries, "
            f"peak {figures[key]['peak_mb']:.0f} MB]",
            figures[key]["seconds"] * 1000, "ms", f"≤ {TARGETS['vs_copy']:g}× COPY", "COPY of the same rows",
            figures["copy"]["seconds"] * 1000, figures[key]["seconds"] / figures["copy"]["seconds"])
        for key in ("ours_csv", "ours_xlsx") if key in figures
    ]
    rows.append(Row(f"{what} against django-import-export (slower of csv and xlsx)", figures[ours]["seconds"] * 1000,
                    "ms", f"≥ {TARGETS['vs_import_export']:g}× faster",
                    f"django-import-export, {sample:,} rows scaled", figures["import_export"]["seconds"] * 1000,
                    ratios["vs_import_export"]))
    rows += [Row(f"{what}, {key[5:]}, peak memory of the process", figures[key]["peak_mb"], "MB",
                 f"≤ {TARGETS['peak_mb']:g} MB") for key in ("ours_csv", "ours_xlsx") if key in figures]
    return rows


# --- what both benchmarks' set-up and driver share ------------------------------------------------


def credit_code(n: int) -> str:
    """The ``n``-th valid credit code (GB 32100) of the bench's borrowers."""
    from core.validators import CREDIT_CODE_ALPHABET, credit_code_check_character

    body = "91" + "440300" + "".join(CREDIT_CODE_ALPHABET[(n // 31**i) % 31] for i in range(9))
    return body + credit_code_check_character(body)


def bench_organisation(name: str, kind: str, code: int):
    """One of the bench's organisations (created once, kept), with a valid credit code of its own."""
    from core.models import Organisation, Region
    from core.validators import credit_code_check_character

    region = Region.objects.order_by("pk").first() or Region.objects.create(code="BENCHIMP", name="基准", level="city")
    first17 = f"91440300BENCH{code:04d}"
    return Organisation.objects.get_or_create(name=name, kind=kind, defaults={
        "region": region, "credit_code": first17 + credit_code_check_character(first17)})[0]


def bench_user(username: str, organisation, role: str):
    """The bench's operator of ``organisation`` (created once, kept; it cannot log in)."""
    from core.models import Role, User

    user, created = User.objects.get_or_create(username=username, defaults={"organisation": organisation})
    if created:
        user.set_unusable_password()
        user.save()
        user.roles.set(Role.objects.filter(code=role))
    return user


def run_bench(rows: int, data: list[list], headers: list[str], *, what: str, ours: Callable[[bytes], dict],
              copy: Callable[[list[list]], dict], import_export: Callable[[list[list]], dict], anchor_rows: int,
              xlsx: bool, stdout, repeat: int = 1) -> dict:
    """The import of ``data`` (``rows`` rows) as csv and xlsx files (``ours``, ``repeat`` times
    each) against COPY of the same rows and django-import-export on the first ``anchor_rows``,
    scaled linearly to ``rows``; the figures judged, and reported on ``stdout`` when given."""
    csv_file = csv_bytes(headers, data)
    figures: dict = {"rows": rows, "ours_csv": repeated(lambda: ours(csv_file), repeat)}
    if xlsx:
        xlsx_file = xlsx_bytes(headers, data)
        figures["ours_xlsx"] = repeated(lambda: ours(xlsx_file), repeat)
    figures["copy"] = copy(data)
    sample = data[:anchor_rows]
    measured = import_export(sample)
    figures["import_export"] = {**measured, "sample_rows": len(sample),
                                "seconds": measured["seconds"] * rows / max(len(sample), 1)}
    judge(figures)
    if stdout is not None:
        stdout.write(report(figures, what))
    return figures


def time_resources(resources: list, rows: int) -> dict:
    """django-import-export's ``import_data`` of each (resource class, dataset) in turn, timed
    and rolled back; ``rows`` is what it saved."""

    def run():
        for resource_class, data in resources:
            result = resource_class().import_data(data, dry_run=False, raise_errors=True, use_transactions=False)
            assert not result.has_errors()
        return rows

    return timed(run)
