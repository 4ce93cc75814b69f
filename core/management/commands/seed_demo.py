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
                f"Demo data ready in {time.monotonic() - started:.1f}s (demo day {demo.ANCHOR})."
            )
            for note in result.notes:
                self.stdout.write(f"  {note}")
            self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for role, username, pages in demo.logins_by_user(result.logins):
            second = "  + code" if username in result.two_factor else ""
            opens = "; ".join(f"{url} ({what})" for url, what in pages)
            self.stdout.write(f"  {role:<20} {username:<23} {demo.DEMO_PASSWORD}{second}  open {opens}")
        if verbose and result.two_factor:
            self.stdout.write(
                "Logins marked '+ code' use two-factor sign-in: after the password, enter the 6-digit code of the "
                f"demo authenticator key {demo.DEMO_TOTP_SECRET} (add it to any TOTP app, or run "
                "`.venv/bin/python manage.py demo_otp_code`)."
            )
