"""Issue 13.1: text stored as a msgid and parameters reads in the reader's language."""
import json
import pickle
from datetime import date
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_lazy as django_lazy

from core import i18n_text
from core.i18n_text import LegacyReader, Text, dump, dumps, join, render
from core.i18n_text import gettext_lazy as _

CAPPED = "The ratio of %(ratio)s is capped at %(cap)s."


def both(value):
    with translation.override("zh-hans"):
        zh = render(value)
    with translation.override("en"):
        en = render(value)
    return zh, en


def test_a_message_with_parameters_is_stored_as_its_msgid_and_values():
    text = _(CAPPED) % {"ratio": "45%", "cap": Decimal("0.4")}
    assert dump(text) == {"code": CAPPED, "params": {"ratio": "45%", "cap": "0.4"}}


def test_the_same_stored_message_renders_in_each_language():
    stored = json.loads(json.dumps(dump(_(CAPPED) % {"ratio": "45%", "cap": "40%"})))
    assert both(stored) == ("补偿比例 45% 按上限 40% 计。", "The ratio of 45% is capped at 40%.")


def test_written_under_english_still_reads_chinese():
    with translation.override("en"):
        stored = dump(_("No ratio to cap."))
    with translation.override("zh-hans"):
        assert render(stored) == "无补偿比例，无需封顶。"


def test_nested_and_joined_messages_translate_each_part():
    text = _("Excluded: %(problems)s.") % {"problems": join("; ", [_("No ratio to cap."), "x"])}
    zh, en = both(dump(text))
    assert zh == "不纳入补偿范围：无补偿比例，无需封顶。; x。"
    assert en == "Excluded: No ratio to cap.; x."


def test_django_lazy_strings_as_parameters_keep_their_msgid():
    assert dump(django_lazy("No ratio to cap.")) == {"code": "No ratio to cap."}


def test_a_text_column_holds_the_json_and_renders_from_it():
    column = dumps(_("No ratio to cap."))
    assert column.startswith("{")
    assert both(column) == ("无补偿比例，无需封顶。", "No ratio to cap.")
    assert dumps("typed by a reviewer {not json}") == "typed by a reviewer {not json}"
    assert render("typed by a reviewer {not json}") == "typed by a reviewer {not json}"


def test_text_is_a_lazy_string_for_django():
    text = _(CAPPED) % {"ratio": "45%", "cap": "40%"}
    with translation.override("en"):
        assert str(text) == "The ratio of 45% is capped at 40%."
        assert "capped" in text
        assert Template("{{ t }}").render(Context({"t": text})) == "The ratio of 45% is capped at 40%."
    assert pickle.loads(pickle.dumps(text)).stored == text.stored
    assert isinstance(text, Text)


def test_dates_and_plain_values_are_stored_as_json():
    assert dump({"on": date(2026, 1, 2), "n": 3, "none": None}) == {"on": {"date": "2026-01-02"}, "n": 3, "none": None}
    assert render({"date": "2026-01-02"}) == "2026-01-02"


def test_the_template_filter_renders_stored_text():
    template = Template("{{ m|text }}")  # a builtin: no load tag needed
    with translation.override("zh-hans"):
        assert template.render(Context({"m": {"code": "No ratio to cap."}})) == "无补偿比例，无需封顶。"


def test_a_translation_that_lost_its_placeholder_falls_back_to_the_msgid(monkeypatch):
    monkeypatch.setattr(i18n_text.translation, "gettext", lambda s: "坏的 %(nope)s")
    assert render({"code": CAPPED, "params": {"ratio": "1%", "cap": "2%"}}) == "The ratio of 1% is capped at 2%."


def test_legacy_sentences_in_either_language_are_read_back_into_codes():
    reader = LegacyReader()
    assert reader.read("无补偿比例，无需封顶。") == {"code": "No ratio to cap."}
    assert reader.read("The ratio of 45% is capped at 40%.") == {"code": CAPPED, "params": {"ratio": "45%", "cap": "40%"}}
    assert reader.read("补偿比例 45% 按上限 40% 计。") == {"code": CAPPED, "params": {"ratio": "45%", "cap": "40%"}}
    assert reader.read("something a person typed") == "something a person typed"


def test_numbers_stay_numbers_for_d_placeholders():
    text = _("%(n)d of %(total)d") % {"n": 2, "total": 3}
    assert render(json.loads(json.dumps(dump(text)))) == "2 of 3"


def test_an_older_audit_summary_names_codes_by_their_labels():
    from core.audit_display import summary_text

    with translation.override("en"):
        english = summary_text("claim on_notice → notice_passed")
    with translation.override("zh-hans"):
        chinese = summary_text("claim on_notice → notice_passed")
    for text in (english, chinese):
        assert "on_notice" not in text and "notice_passed" not in text and text.startswith("claim ")
    assert english != chinese


def test_an_upload_error_shows_a_rule_id_but_not_an_internal_kind():
    """Issue 13.2: ``INPUT`` is not a rule a person can look up; RP-6 is."""
    from django.template.loader import render_to_string

    html = render_to_string("partials/import_errors.html", {"errors": [
        {"row": 3, "column": "借据号", "rule": "INPUT", "message": "x"},
        {"row": 4, "column": "借据日期", "rule": "RP-6", "message": "y"}]})
    assert "INPUT" not in html and "<td>RP-6</td>" in html and "<td>—</td>" in html


def test_a_code_parameter_is_shown_by_its_label():
    from core.i18n_text import label

    text = _("Claim: %(old)s → %(new)s") % {"old": label("on_notice"), "new": label("notice_passed")}
    stored = json.loads(json.dumps(dump(text)))
    zh, en = both(stored)
    assert "on_notice" not in zh + en and "notice_passed" not in zh + en and zh != en
    assert render({"label": "no_such_code"}) == "no_such_code"
