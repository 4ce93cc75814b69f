"""``manage.py seed_demo``: load the demo data set (core.demo), idempotently, and print the logins."""
import time

from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = "Create or complete the demo data (one province, 200 guarantees) and print one login per role."

    def handle(self, *args, **options):
        started = time.monotonic()
        result = demo.build_demo()
        verbose = options["verbosity"] > 0
        if verbose:
            self.stdout.write(
                f"Demo data ready in {time.monotonic() - started:.1f}s "
                f"({result.created_guarantees} guarantees created this run; demo day {demo.ANCHOR})."
            )
            for note in result.notes:
                self.stdout.write(f"  {note}")
            self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for role, username, url, what in result.logins:
            self.stdout.write(f"  {role:<20} {username:<22} {demo.DEMO_PASSWORD}  open {url:<14} {what}")
