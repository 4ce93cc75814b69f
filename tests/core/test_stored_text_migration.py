"""Issue 13.1: the data migration reads sentences stored before the codes back into codes."""
import importlib

import pytest
from django.apps import apps
from django.utils import translation

from core.i18n_text import render
from riskpool.models import ClaimStep
from tests.factories import ClaimFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("core.migrations.0011_stored_text_codes")

CAPPED_EN = "The ratio of 60% is capped at 50%."
CAPPED_ZH = "补偿比例 60% 按上限 50% 计。"


def test_stored_english_and_chinese_sentences_become_codes_and_typed_text_stays():
    claim = ClaimFactory(reasons=[{"rule": "RP-11", "outcome": "info", "message": CAPPED_ZH},
                                  {"rule": "RP-12", "outcome": "info", "message": "某人自己写的话"}])
    gate = ("RP-15: the bank's NPL ratio is 3.0918%, above the limit of 3%; the claim is held until it is at "
            "most the limit.")
    step = ClaimStep.objects.create(claim=claim, old="", new="submitted", on=claim.submitted_on, note=gate)
    typed = ClaimStep.objects.create(claim=claim, old="submitted", new="approved", on=claim.submitted_on, note="同意")
    migration.forwards(apps, None)
    claim.refresh_from_db()
    step.refresh_from_db()
    typed.refresh_from_db()
    assert claim.reasons[0]["message"] == {"code": "The ratio of %(ratio)s is capped at %(cap)s.",
                                           "params": {"ratio": "60%", "cap": "50%"}}
    assert claim.reasons[1]["message"] == "某人自己写的话"
    assert typed.note == "同意"
    with translation.override("en"):
        assert render(claim.reasons[0]["message"]) == CAPPED_EN
        assert render(step.note) == gate
    with translation.override("zh-hans"):
        assert "RP-15" in render(step.note) and "3.0918" in render(step.note) and "above" not in render(step.note)
    migration.forwards(apps, None)  # a second run changes nothing
    claim.refresh_from_db()
    assert claim.reasons[0]["message"]["code"] == "The ratio of %(ratio)s is capped at %(cap)s."
