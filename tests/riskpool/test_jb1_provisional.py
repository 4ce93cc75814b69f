"""JB-1 in the risk pool: deadlines in 2027 (a year whose State Council holiday notice is not
entered) are provisional, shown with their earliest and latest possible date, enforced only at
the latest; entering the notice on /calendar/ confirms the year and recomputes them."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from core import calendar as core_calendar
from core.calendar import working_day_deadline
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent, CalendarDay, CalendarYear, Notification
from core.notifications import deadlines_scan
from riskpool import rules, services
from riskpool.models import Claim
from riskpool.selectors import overdue_q
from riskpool.services import scheme_s_params
from tests.factories import (
    ClaimFactory,
    OrganisationFactory,
    UserFactory,
    bank_user,
)
from tests.riskpool.factories import World

pytestmark = pytest.mark.django_db

# A hypothetical 2027 notice: 春节 5–12 February (除夕 to the Friday after), 14 February (Sunday) a
# make-up working day; 元旦 1–3 January; the other statutory weekdays.
NOTICE_OFF = ("2027-01-01~2027-01-03\n2027-02-05~2027-02-12\n2027-04-05, 2027-05-01~2027-05-05\n"
              "2027-06-09 2027-09-15 2027-10-01~2027-10-07")
NOTICE_ON = "2027-02-14"


def authority_admin():
    return UserFactory(organisation=OrganisationFactory(kind="authority"), roles=["authority_admin"])


def test_jb1_2026q4_loan_rp6_deadline_is_not_earlier_than_2027_01_22():
    deadline = rules.entry_deadline(date(2026, 11, 10), calendar=core_calendar,
                                    params=scheme_s_params(date(2026, 11, 10)))
    assert deadline.provisional
    assert deadline.date >= date(2027, 1, 22) and deadline.latest >= deadline.date


def test_jb1_2026q4_loan_entered_on_2027_01_22_is_accepted():
    world = World()
    project = world.register(loan_no="Q4", disbursed_on=date(2026, 11, 10), maturity_on=date(2027, 11, 9),
                             entered_on=date(2027, 1, 22))
    assert project.entered_on == date(2027, 1, 22)


def test_jb1_rp6_entry_between_earliest_and_latest_is_accepted_after_latest_refused():
    # 2027Q1: earliest 22 April, latest 26 April (清明 and 劳动节 may bridge).
    world = World()
    world.register(loan_no="A", disbursed_on=date(2027, 3, 10), maturity_on=date(2028, 3, 9),
                   entered_on=date(2027, 4, 26))
    with pytest.raises(RuleViolation) as exc:
        world.register(loan_no="B", disbursed_on=date(2027, 3, 10), maturity_on=date(2028, 3, 9),
                       entered_on=date(2027, 4, 27))
    assert exc.value.rule == "RP-6" and exc.value.field == "entered_on"
    assert "2027-04-22" in exc.value.message and "2027-04-26" in exc.value.message


def test_jb1_rp6_quote_fails_only_after_the_latest_possible_deadline():
    deadline = working_day_deadline(date(2027, 3, 31), 15)
    assert rules.check_entry(date(2027, 3, 10), date(2027, 4, 26), date(2027, 6, 1), deadline).outcome == rules.PASS
    assert rules.check_entry(date(2027, 3, 10), date(2027, 4, 27), date(2027, 6, 1), deadline).outcome == rules.FAIL


class Notice:
    def __init__(self):
        self.claim = ClaimFactory(state="approved", submitted_on=date(2027, 1, 10))
        self.reviewer = UserFactory(organisation=self.claim.project.pool.reviewer, roles=["pool_reviewer"])
        # The authority runs the public notice (第二十条(二)).
        self.authority = UserFactory(organisation=self.claim.project.pool.authority, roles=["authority_admin"])
        services.claim_notice_start(user=self.authority, claims=[self.claim], on=date(2027, 2, 3))
        self.claim.refresh_from_db()


def test_jb1_notice_starting_2027_02_03_does_not_end_before_2027_02_16():
    claim = Notice().claim
    assert claim.notice_end == date(2027, 2, 16)
    assert claim.notice_end_latest == date(2027, 2, 23)
    # closing it is due from the day after the notice ends
    assert claim.next_due_provisional and (claim.next_due_on, claim.next_due_latest) == (date(2027, 2, 17),
                                                                                            date(2027, 2, 24))


def test_jb1_provisional_notice_closes_only_after_its_latest_end():
    n = Notice()
    with pytest.raises(Conflict) as exc:
        services.claim_notice_close(user=n.authority, claim=n.claim, on=date(2027, 2, 17))
    assert "2027-02-23" in exc.value.message
    with pytest.raises(Conflict):
        services.claim_notice_close(user=n.authority, claim=n.claim, on=date(2027, 2, 23))
    assert services.claim_notice_close(user=n.authority, claim=n.claim, on=date(2027, 2, 24)).state == "notice_passed"


def test_jb1_objection_accepted_until_the_latest_possible_end():
    n = Notice()
    services.objection_file(claim=n.claim, name="张三", contact="138", text="异议", on=date(2027, 2, 23))
    with pytest.raises(Conflict):
        services.objection_file(claim=n.claim, name="张三", contact="138", text="异议", on=date(2027, 2, 24))


def test_jb1_confirming_2027_recomputes_the_notice_and_allows_closing_after_the_real_end():
    n = Notice()
    from core.services import calendar_year_confirm
    from core.views_calendar import parse_dates

    calendar_year_confirm(user=authority_admin(), year=2027, holidays=parse_dates(NOTICE_OFF),
                          working_days=parse_dates(NOTICE_ON), note="国办发明电〔2026〕X号")
    n.claim.refresh_from_db()
    # Working days after 3 Feb: 4 Feb, then 14 (Sunday, 调休), 15, 16, 17, 18, 19 February.
    assert (n.claim.notice_end, n.claim.notice_end_latest) == (date(2027, 2, 19), date(2027, 2, 19))
    assert not n.claim.next_due_provisional and n.claim.next_due_on == date(2027, 2, 20)
    assert AuditEvent.objects.filter(object_type="riskpool.claim", object_id=str(n.claim.pk),
                                     summary__contains="JB-1").exists()
    with pytest.raises(Conflict):
        services.claim_notice_close(user=n.authority, claim=n.claim, on=date(2027, 2, 19))
    assert services.claim_notice_close(user=n.authority, claim=n.claim, on=date(2027, 2, 20)).state == "notice_passed"


def test_jb1_provisional_step_is_due_soon_not_overdue_until_its_latest_date():
    n = Notice()
    deadlines_scan(today=date(2027, 2, 18))
    note = Notification.objects.get(key=f"riskpool.claim:{n.claim.pk}:on_notice")
    assert note.kind == Notification.Kind.DUE_SOON and note.provisional
    assert (note.due_on, note.due_latest) == (date(2027, 2, 17), date(2027, 2, 24))
    assert not Claim.objects.filter(overdue_q(date(2027, 2, 24)), pk=n.claim.pk).exists()
    assert Claim.objects.filter(overdue_q(date(2027, 2, 25)), pk=n.claim.pk).exists()
    deadlines_scan(today=date(2027, 2, 25))
    assert Notification.objects.filter(key=f"riskpool.claim:{n.claim.pk}:on_notice",
                                       kind=Notification.Kind.OVERDUE).exists()


def test_jb1_claim_page_shows_earliest_and_latest_notice_end(client):
    n = Notice()
    client.force_login(n.reviewer)
    content = client.get(reverse("riskpool:claim-detail", args=[n.claim.pk])).content.decode()
    assert "2027-02-16" in content and 'id="notice-latest"' in content and "2027-02-23" in content


# --- the calendar page and the confirming service ---------------------------------------------


def test_jb1_calendar_page_is_for_the_authority_admin_only(client):
    client.force_login(bank_user())
    assert client.get(reverse("calendar")).status_code == 403
    client.force_login(UserFactory(organisation=OrganisationFactory(kind="authority"), roles=["authority_reviewer"]))
    assert client.get(reverse("calendar")).status_code == 403
    client.force_login(authority_admin())
    response = client.get(reverse("calendar") + "?year=2027")
    assert response.status_code == 200
    content = response.content.decode()
    assert "2027-02-05" in content and "2027-02-08" in content  # 春节 除夕 to 初三


def test_jb1_calendar_page_confirms_a_year_from_the_typed_notice(client):
    admin = authority_admin()
    client.force_login(admin)
    response = client.post(reverse("calendar"), {"year": 2027, "note": "国办发明电〔2026〕X号",
                                                 "holidays": NOTICE_OFF, "working_days": NOTICE_ON})
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).holidays_entered
    assert CalendarDay.objects.get(date=date(2027, 2, 14)).is_working_day
    assert not CalendarDay.objects.get(date=date(2027, 2, 12)).is_working_day
    assert working_day_deadline(date(2027, 2, 3), 7).provisional is False
    assert AuditEvent.objects.filter(object_type="core.calendaryear", actor=admin).exists()


def test_jb1_calendar_page_confirms_a_year_from_an_xlsx(client):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    from core.views_calendar import parse_dates

    book = Workbook()
    sheet = book.active
    sheet.append(["日期", "类型"])
    for day in parse_dates(NOTICE_OFF):
        sheet.append([day, "休"])
    sheet.append(["2027-02-14", "班"])
    buffer = BytesIO()
    book.save(buffer)
    client.force_login(authority_admin())
    upload = SimpleUploadedFile("2027.xlsx", buffer.getvalue())
    response = client.post(reverse("calendar"), {"year": 2027, "file": upload})
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=date(2027, 2, 14)).is_working_day


def test_jb1_notice_missing_a_statutory_holiday_is_refused_naming_it(client):
    client.force_login(authority_admin())
    response = client.post(reverse("calendar"), {"year": 2027, "holidays": "2027-01-01 2027-02-05~2027-02-12",
                                                 "working_days": "2027-02-10"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "2027-04-05" in content and "JB-1" in content
    assert "2027-02-10" in content  # a weekday cannot be a make-up working day
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_jb1_notice_with_a_bad_date_is_refused_naming_it(client):
    client.force_login(authority_admin())
    response = client.post(reverse("calendar"), {"year": 2027, "holidays": "2027-02-30"})
    assert response.status_code == 400
    assert "2027-02-30" in response.content.decode()


def test_jb1_only_the_authority_admin_may_confirm_a_year():
    from django.core.exceptions import PermissionDenied

    from core.services import calendar_year_confirm

    with pytest.raises(PermissionDenied):
        calendar_year_confirm(user=bank_user(), year=2027, holidays=[date(2027, 1, 1)], working_days=[])


def test_jb1_home_warning_links_to_the_calendar_page(client, monkeypatch):
    monkeypatch.setattr("core.views.shanghai_today", lambda: date(2026, 12, 3))
    client.force_login(authority_admin())
    content = client.get(reverse("home")).content.decode()
    assert 'id="calendar-warning"' in content and "2027" in content
    assert f'href="{reverse("calendar")}"' in content
