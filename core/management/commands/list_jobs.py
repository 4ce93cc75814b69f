"""``manage.py list_jobs``: every registered batch job, its schedule and its last run."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from core.jobs import all_jobs, show_lost_runs
from core.models import JobRun


class Command(BaseCommand):
    help = "List the registered batch jobs with their schedule and last run."

    def handle(self, *args, **options):
        for spec in all_jobs():
            last = JobRun.objects.filter(job=spec.id).first()  # newest first (Meta.ordering)
            if last:
                show_lost_runs([last])  # a run whose worker died shows as failed (JB-14)
            self.stdout.write(f"{spec.id}\t{spec.name}\t{spec.schedule_text}\tperiod if run today: {spec.default_period()}")
            if last:
                self.stdout.write(f"\tlast: {last.period} {last.state} {last.finished_at or last.started_at or ''}")
                if last.worker_lost:
                    self.stdout.write(f"\t{last.error}")
