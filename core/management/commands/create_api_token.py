"""``manage.py create_api_token <username> <name>``: issue an API token and print its key once."""
from django.core.management.base import BaseCommand, CommandError

from core.models import User
from core.services import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a user's organisation and print the key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("name", help="What the token is for, e.g. the bank's loan system.")

    def handle(self, *args, username, name, **options):
        user = User.objects.select_related("organisation").filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if user.organisation_id is None:
            raise CommandError(f"User {username!r} belongs to no organisation; a token acts for one.")
        token, key = api_token_issue(actor="manage.py create_api_token", user=user, name=name)
        self.stdout.write(key)
        self.stderr.write(f"Token {token} for {user.organisation}. Store the key now; it is not kept.")
