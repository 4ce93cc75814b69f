"""Issue 13 point 9: ``make run`` (seed_demo) prints each demo login once, with all its pages on
that line, and no raw e-mail (the demo's reminders are kept in-app, not sent)."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command

from core import demo

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_each_login_once_and_no_email(capsys):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    output = out.getvalue()
    login_lines = [line for line in output.splitlines() if demo.DEMO_PASSWORD in line and "password for all" not in line]
    usernames = [line.split()[1] for line in login_lines]
    assert len(usernames) == len(set(usernames)), usernames
    assert "authority_admin" in usernames and "firm_operator" in usernames
    admin_line = next(line for line in login_lines if line.split()[1] == "authority_admin")
    assert "/evaluation/" in admin_line and "/counterguarantee/tables/" in admin_line
    assert mail.outbox == []
    assert not re.search(r"[\w.]+@[\w.]+", output + capsys.readouterr().out)


def test_logins_by_user_groups_pages_in_first_seen_order():
    rows = [("a", "alice", "/", "home"), ("b", "bob", "/x/", "x"), ("a", "alice", "/y/", "y")]
    assert demo.logins_by_user(rows) == [("a", "alice", [("/", "home"), ("/y/", "y")]),
                                         ("b", "bob", [("/x/", "x")])]
