"""The registry of ``manage.py bench`` (``make bench``): every app contributes its part of the one
table of issue-12 figures from its own ``bench_parts.py``, found like Django finds ``admin.py``
(``discover()``), so that core drives the benchmark without importing any app.

A part registers

- ``step(section, order)``: a function ``(run: BenchRun) -> list[Row]``; the command runs the
  sections in ``SECTIONS`` order and, inside a section, the steps by ``order``, and prints their
  rows in that order;
- ``option(name, **kwargs)``: a command-line option of the part (``--guarantees N``);
- ``big_table(name)``: a table whose indexes are reported when no benchmarked query used them.

A step that leaves data behind for a later step (or for the end) keeps it in ``run.state`` and
registers its removal with ``run.on_finish``: it runs after the table, also when a step fails.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.module_loading import autodiscover_modules

from core.bench import measure

# pages and reads first (on cold caches), then the API, the batch jobs against their anchors,
# the simulator, and the figures of the data generation itself
SECTIONS = ("pages", "api", "jobs", "simulation", "data")
JOB_RATIO = 1.5  # a batch job within 1.5 times its hand-written SQL statement


@dataclass(frozen=True)
class Row:
    """One line of the table: the figure, its target, and for a job its anchor and the ratio."""

    what: str
    figure: float | None
    unit: str = ""
    target: str = ""
    anchor: str = ""
    anchor_figure: float | None = None
    ratio: float | None = None


@dataclass
class BenchRun:
    options: dict
    stdout: Any
    stderr: Any
    state: dict = field(default_factory=dict)
    finishers: list[Callable[[], None]] = field(default_factory=list)

    def on_finish(self, func: Callable[[], None]) -> None:
        self.finishers.append(func)

    def finish(self) -> None:
        """The registered removals, last registered first (the reverse of their creation)."""
        while self.finishers:
            self.finishers.pop()()


@dataclass(frozen=True)
class Step:
    section: str
    order: int
    name: str
    func: Callable[[BenchRun], list[Row]]


# keyed by name, so that importing a bench_parts module twice registers its parts once
_steps: dict[str, Step] = {}
_options: dict[str, dict] = {}
_big_tables: dict[str, None] = {}


def step(section: str, order: int):
    if section not in SECTIONS:
        raise ValueError(f"bench step section {section!r} is none of {SECTIONS}")

    def register(func: Callable[[BenchRun], list[Row]]):
        name = f"{func.__module__}.{func.__qualname__}"
        _steps[name] = Step(section, order, name, func)
        return func

    return register


def option(name: str, **kwargs) -> None:
    _options[name] = kwargs


def big_table(name: str) -> None:
    _big_tables[name] = None


def discover() -> None:
    autodiscover_modules("bench_parts")


def steps(section: str) -> list[Step]:
    return sorted((s for s in _steps.values() if s.section == section), key=lambda s: (s.order, s.name))


def options() -> list[tuple[str, dict]]:
    return list(_options.items())


def big_tables() -> list[str]:
    return list(_big_tables)


# --- helpers the parts share -------------------------------------------------------------------


def rolled_back(func: Callable[[], object]) -> Callable[[], object]:
    """``func`` in a transaction that is always rolled back: a job's writes are measured, not kept."""

    def call():
        with transaction.atomic():
            result = func()
            transaction.set_rollback(True)
        return result

    return call


def sql_statement(sql: str, params: dict) -> Callable[[], None]:
    """A hand-written statement as a callable, rolled back like the job it anchors."""

    def call():
        with transaction.atomic(), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()
            transaction.set_rollback(True)

    return call


def job_against_anchor(what: str, job: Callable[[], object], anchor_name: str, anchor: Callable[[], object]) -> Row:
    """The job and its anchor statement, three warm runs each, and their ratio."""
    job_ms = measure(job, repeat=3, warmup=True).median_ms
    anchor_ms = measure(anchor, repeat=3, warmup=True).median_ms
    ratio = job_ms / anchor_ms if anchor_ms else None
    return Row(what, job_ms, "ms", f"≤ {JOB_RATIO}× anchor", anchor_name, anchor_ms, ratio)
