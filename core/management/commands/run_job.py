"""``manage.py run_job JB-5 [--period 2025Q1]``: run a batch job now, through the same service
as the beat and the job page (JB-12 … JB-14)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import RuleViolation
from core.jobs import get_job, job_run
from core.models import JobRun


class Command(BaseCommand):
    help = "Run a batch job for a period (default: the period it would run for today) and print its counts."

    def add_arguments(self, parser):
        parser.add_argument("job", help="job id, for example JB-5 (see list_jobs)")
        parser.add_argument("--period", help="2025Q1, 2025H1, 2025 or 2025-03-04, as the job expects")

    def handle(self, *args, job, period=None, **options):
        try:
            spec = get_job(job)
            period = period or spec.default_period()
            run = job_run(job_id=spec.id, period=period, trigger=JobRun.Trigger.COMMAND)
        except RuleViolation as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:  # recorded on the run by job_run; the exit code says it failed
            raise CommandError(f"{job} {period} failed: {type(exc).__name__}: {exc}") from exc
        counts = " ".join(f"{key}={value}" for key, value in run.counts.items())
        self.stdout.write(f"{run.job} {run.period} {run.state} (run {run.pk}): {counts}")
