"""A later bulk upload never renames a borrower silently (issue 10, point 9): a row naming a
borrower already on record (same identifier) by another name is a row error listing the change
old → new; only on a second pass, with the listed change sent back and "confirm these changes"
ticked, is the borrower renamed, and the rename is in the audit trail. Both uploads share the
rule (core.bulk.unconfirmed_renames): guarantees here, the risk pool's loans below."""
from __future__ import annotations

import pytest
from django.urls import reverse

from core.bulk import BulkRejected, Rename, unconfirmed_renames
from core.models import AuditEvent
from guarantees import imports
from guarantees.models import Borrower, Guarantee
from guarantees.services import BorrowerData
from riskpool.models import LoanProject
from tests.audit_text import english
from tests.factories import AgreementFactory, firm_user, make_credit_code
from tests.guarantees.test_imports import row, upload, xlsx_bytes
from tests.riskpool import test_imports as rp
from tests.riskpool.factories import World

pytestmark = pytest.mark.django_db

URL = "guarantees:guarantee-import"


@pytest.fixture
def alice():
    return firm_user()


@pytest.fixture
def agreement(alice):
    return AgreementFactory(firm=alice.organisation, code="YD-2024-01")


@pytest.fixture
def on_record(client, alice, agreement):
    """A first upload put 顺达 on record under its credit code."""
    code = make_credit_code()
    client.force_login(alice)
    first = xlsx_bytes([row(1, 证件号码=code, 融资人名称="顺达制造有限公司")])
    assert client.post(reverse(URL), {"file": upload("first.xlsx", first)}).status_code == 302
    return code


def _second(code, name="顺达智能制造有限公司"):
    return xlsx_bytes([row(2, 证件号码=code, 融资人名称=name)])


def test_a_later_upload_renaming_a_borrower_is_a_row_error_listing_old_and_new(client, alice, on_record):
    response = client.post(reverse(URL), {"file": upload("second.xlsx", _second(on_record))})
    assert response.status_code == 400
    errors = response.context["errors"]
    assert [(e["row"], e["rule"], e["column"]) for e in errors] == [(2, "INPUT", "融资人名称")]
    assert errors[0]["rename"] == {"id_number": on_record, "old": "顺达制造有限公司", "new": "顺达智能制造有限公司",
                                   "key": f"{on_record}\t顺达智能制造有限公司"}
    page = response.content.decode()
    assert 'id="upload-renames"' in page and "顺达制造有限公司" in page and "顺达智能制造有限公司" in page
    assert 'name="confirm_renames"' in page and f'value="{on_record}\t顺达智能制造有限公司"' in page
    assert Borrower.objects.get(id_number=on_record).name == "顺达制造有限公司"
    assert not Guarantee.objects.filter(contract_no="DB-IMP-0002").exists()


def test_the_listed_change_without_the_box_ticked_still_renames_nothing(client, alice, on_record):
    key = f"{on_record}\t顺达智能制造有限公司"
    response = client.post(reverse(URL), {"file": upload("second.xlsx", _second(on_record)), "renames": [key]})
    assert response.status_code == 400
    assert Borrower.objects.get(id_number=on_record).name == "顺达制造有限公司"


def test_confirmed_on_the_second_pass_the_rename_is_applied_and_audited(client, alice, on_record):
    key = f"{on_record}\t顺达智能制造有限公司"
    response = client.post(reverse(URL), {"file": upload("second.xlsx", _second(on_record)), "renames": [key],
                                          "confirm_renames": "on"})
    assert response.status_code == 302
    borrower = Borrower.objects.get(id_number=on_record)
    assert borrower.name == "顺达智能制造有限公司"
    assert Guarantee.objects.get(contract_no="DB-IMP-0002").borrower == borrower
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(borrower.pk)).latest("id")
    assert event.actor == alice and "顺达制造有限公司 → 顺达智能制造有限公司" in english(event.summary)


def test_a_confirmation_covers_only_the_change_it_listed(client, alice, on_record):
    """Ticking the box for one new name does not let another name through."""
    key = f"{on_record}\t顺达智能制造有限公司"
    response = client.post(reverse(URL), {"file": upload("second.xlsx", _second(on_record, "别的名称有限公司")),
                                          "renames": [key], "confirm_renames": "on"})
    assert response.status_code == 400
    assert response.context["errors"][0]["rename"]["new"] == "别的名称有限公司"
    assert Borrower.objects.get(id_number=on_record).name == "顺达制造有限公司"


def test_the_same_name_again_is_no_change(client, alice, on_record):
    response = client.post(reverse(URL), {"file": upload("second.xlsx", _second(on_record, "顺达制造有限公司"))})
    assert response.status_code == 302


def test_another_firms_borrower_with_the_same_code_is_not_a_rename(client, on_record):
    """Borrowers are each owner's own: another firm's upload never sees, nor renames, ours."""
    bob = firm_user()
    AgreementFactory(firm=bob.organisation, code="YD-2024-01")
    client.force_login(bob)
    response = client.post(reverse(URL), {"file": upload("bob.xlsx", _second(on_record))})
    assert response.status_code == 302
    assert Borrower.objects.get(id_number=on_record, owner=bob.organisation).name == "顺达智能制造有限公司"
    assert Borrower.objects.exclude(owner=bob.organisation).get(id_number=on_record).name == "顺达制造有限公司"


def test_two_names_for_one_new_borrower_in_one_file_is_a_rename_too(alice, agreement):
    code = make_credit_code()
    content = xlsx_bytes([row(1, 证件号码=code, 融资人名称="甲公司"), row(2, 证件号码=code, 融资人名称="乙公司")])
    with pytest.raises(BulkRejected) as caught:
        imports.import_guarantees(user=alice, firm=alice.organisation, upload=upload("x.xlsx", content))
    assert [(e.row, e.rename) for e in caught.value.errors] == [(3, Rename(code, "甲公司", "乙公司"))]
    assert not Borrower.objects.filter(id_number=code).exists()


def test_unconfirmed_renames_is_a_pure_check():
    def data(name):
        return BorrowerData(name=name, id_kind="credit_code", id_number="91440300ma5fxxxx1a", kind="enterprise")

    rows = [{"row": 2, "borrower": data("新名")}, {"row": 3, "errors": ["x"]}]
    existing = {"91440300MA5FXXXX1A": "旧名"}
    [error] = unconfirmed_renames(rows, existing, confirmed=())
    assert error.rename == Rename("91440300MA5FXXXX1A", "旧名", "新名") and error.column == "borrower.name"
    assert unconfirmed_renames(rows, existing, confirmed={"91440300MA5FXXXX1A\t新名"}) == []


# --- the risk pool's loan upload -----------------------------------------------------------------


def test_riskpool_upload_renaming_a_borrower_needs_the_confirmation(client):
    world = World()
    code = make_credit_code()
    first = rp.post(client, world.bank_user, rp.xlsx_file([rp.row(1, 证件号码=code, 借款人名称="顺达制造有限公司")]),
                    world.pool)
    assert first.status_code == 302
    second = [rp.row(2, 证件号码=code, 借款人名称="顺达智能制造有限公司")]
    response = rp.post(client, world.bank_user, rp.xlsx_file(second), world.pool)
    assert response.status_code == 400
    [error] = response.context["errors"]
    assert (error["row"], error["column"], error["rename"]["old"]) == (2, "借款人名称", "顺达制造有限公司")
    assert 'id="upload-renames"' in response.content.decode()
    assert not LoanProject.objects.filter(loan_no="JJ-UP-00002").exists()

    response = client.post(rp.URL, {"pool": world.pool.pk, "file": rp.xlsx_file(second),
                                     "renames": [error["rename"]["key"]], "confirm_renames": "on"})
    assert response.status_code == 302
    borrower = Borrower.objects.get(owner=world.bank, id_number=code)
    assert borrower.name == "顺达智能制造有限公司"
    assert LoanProject.objects.get(loan_no="JJ-UP-00002").borrower == borrower
    assert AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE, object_id=str(borrower.pk),
                                     summary__contains="顺达智能制造有限公司").exists()
