"""``manage.py demo_otp_code``: the code the demo authenticator shows now (core.demo's published
key), for signing in to the demo logins that use two-factor sign-in without a phone. It knows
the demo key only, never a real person's."""
from django.core.management.base import BaseCommand
from django_otp.oath import TOTP

from core import demo


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo logins (the published demo key)."

    def handle(self, *args, **options):
        totp = TOTP(bytes.fromhex(demo.DEMO_TOTP_KEY))
        seconds = 30 - int(totp.time) % 30
        self.stdout.write(f"{totp.token():06d}")
        if options["verbosity"] > 1:
            self.stdout.write(f"valid for {seconds} more seconds (key {demo.DEMO_TOTP_SECRET})")
