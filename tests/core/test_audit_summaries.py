"""Audit summaries are stored as a msgid and its values and read in each viewer's language
(issue 13.1): the audit trail page and the admin render them; a summary written before, as
plain text, reads as it was. A scan of the sources keeps every audit call to that form."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from core import i18n_text, services
from core.audit import audit
from core.audit_display import label_of
from core.models import AuditEvent, Organisation, User
from tests.audit_text import chinese, english
from tests.factories import OrganisationFactory, RegionFactory, UserFactory, firm_user

ROOT = Path(settings.BASE_DIR)
# The calls that write an audit summary, and the keyword that carries it.
WRITERS = {"audit": "summary", "AuditEvent": "summary", "audit_rows": "summaries"}
# What may make a summary: stored text (a message with its values), never a sentence in English.
MAKERS = {"gettext_lazy", "pgettext_lazy", "label", "join", "dumps_with", "dumps_within"}


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _bad(node: ast.expr | None) -> str | None:
    """Why ``node`` is not stored text, or None when it is."""
    if node is None or isinstance(node, (ast.Name, ast.Attribute)):
        return None  # a variable: its value is checked where it is made
    if isinstance(node, ast.Constant):
        return f"the literal {node.value!r}" if node.value not in ("", None) else None
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _bad(node.left)  # message % values
    if isinstance(node, ast.IfExp):
        return _bad(node.body) or _bad(node.orelse)
    if isinstance(node, ast.GeneratorExp):
        return _bad(node.elt)
    on_text = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
        node.func.value, (ast.Constant, ast.JoinedStr))  # ", ".join(…), "…".format(…)
    if isinstance(node, ast.Call) and _name(node.func) in MAKERS and not on_text:
        if any(isinstance(n, ast.JoinedStr) for n in ast.walk(node)):
            return "an f-string inside the message"
        return None
    return f"the expression {ast.unparse(node)!r}"


def problems(source: str, where: str) -> list[str]:
    """Every audit summary in ``source`` that is not stored text; calls to a function of the same
    module taking a ``summary`` parameter count as audit calls."""
    tree = ast.parse(source)
    writers = dict(WRITERS)
    positions: dict[str, int] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            if "summary" in names + [a.arg for a in fn.args.kwonlyargs] and fn.name not in writers:
                writers[fn.name] = "summary"
                if "summary" in names:
                    positions[fn.name] = names.index("summary")
    found = []
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or _name(call.func) not in writers:
            continue
        name = _name(call.func)
        args = [k.value for k in call.keywords if k.arg == writers[name]]
        if name in positions and len(call.args) > positions[name]:
            args.append(call.args[positions[name]])
        for arg in args:
            why = _bad(arg)
            if why:
                found.append(f"{where}:{call.lineno}: {name}() gets {why}")
    return found


def _sources():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in (".venv", "tests", "node_modules", "staticfiles") or "migrations" in parts:
            continue
        yield path


def test_every_audit_summary_is_stored_text_not_an_english_sentence():
    found = [p for path in _sources() for p in problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert found == []


@pytest.mark.parametrize("line", [
    'audit(actor=u, action=a, instance=i, summary=f"guarantee {g.no}")',
    'audit(actor=u, action=a, instance=i, summary="objection")',
    'audit(actor=u, action=a, instance=i, summary="claim %s" % no)',
    'audit(actor=u, action=a, instance=i, summary=", ".join(parts))',
    'AuditEvent(summary=f"revoked {on}"[:255])',
    'audit_rows(actor=u, action=a, instances=x, organisation=o, summaries=(f"loan {p}" for p in x))',
    'def _record(user, instance, summary):\n    pass\n_record(u, i, f"inspection {x}")',
])
def test_the_scan_finds_an_english_sentence(line):
    assert problems(line, "x.py")


@pytest.mark.parametrize("line", [
    'audit(actor=u, action=a, instance=i, summary=i18n_text.gettext_lazy("Guarantee %(no)s") % {"no": g.no})',
    'audit(actor=u, action=a, instance=i)',
    'audit(actor=u, action=a, instance=i, summary=SUMMARY % {"no": 1} if x else i18n_text.gettext_lazy("Other"))',
    'audit_rows(actor=u, action=a, instances=x, organisation=o, summaries=(dumps_with(M, {"n": p}) for p in x))',
])
def test_the_scan_lets_stored_text_through(line):
    assert problems(line, "x.py") == []


# --- reading ------------------------------------------------------------------------------------


@pytest.fixture
def people(db):
    region = RegionFactory()
    firm = OrganisationFactory(region=region, kind=Organisation.Kind.GUARANTEE_FIRM, name="呼玛担保公司")
    authority = UserFactory(organisation=OrganisationFactory(region=region, kind=Organisation.Kind.AUTHORITY),
                            roles=["authority_admin"])
    return {"firm": firm, "authority": authority, "firm_user": firm_user(organisation=firm)}


def _page(client, user, language: str) -> str:
    client.force_login(user)
    response = client.get(reverse("audit-list"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_a_summary_written_by_a_service_reads_in_chinese_for_zh_and_in_english_for_en(client, people):
    with translation.override("en"):  # written while an English-speaking person was signed in
        token, _key = services.api_token_issue(actor=people["authority"], user=people["firm_user"], name="ERP")
    event = AuditEvent.objects.get(object_type="core.apitoken", object_id=str(token.pk))
    assert "API token" in event.summary and "{" in event.summary  # the msgid and values, not a sentence
    assert chinese(event.summary) == f"API 令牌 {token}" and english(event.summary) == f"API token {token}"
    zh, en = _page(client, people["authority"], "zh-hans"), _page(client, people["authority"], "en")
    assert f"API 令牌 {token}" in zh and "API token" not in zh
    assert f"API token {token}" in en and "API 令牌" not in en


def test_a_coded_value_and_a_date_in_a_summary_read_in_the_viewers_language():
    summary = i18n_text.dumps(i18n_text.gettext_lazy("Classified %(old)s → %(new)s on %(on)s") % {
        "old": i18n_text.label("special_mention"), "new": i18n_text.label("substandard"), "on": date(2025, 3, 1)})
    with translation.override("zh-hans"):
        labels = label_of("special_mention"), label_of("substandard")
    assert chinese(summary) == f"2025-03-01 五级分类 {labels[0]} → {labels[1]}" and labels == ("关注", "次级")
    assert english(summary) == "Classified Special mention → Substandard on 2025-03-01"


def test_a_summary_written_before_as_plain_text_reads_as_it_was(client, people):
    audit(actor=people["firm_user"], action=AuditEvent.Action.UPDATE, instance=people["firm"],
          organisation=people["firm"], summary="guarantee HM-1 released")
    assert "guarantee HM-1 released" in _page(client, people["authority"], "zh-hans")
    assert "guarantee HM-1 released" in _page(client, people["authority"], "en")


def test_the_admin_shows_a_summary_in_the_viewers_language(client, people):
    audit(actor=people["firm_user"], action=AuditEvent.Action.UPDATE, instance=people["firm"],
          organisation=people["firm"], summary=i18n_text.gettext_lazy("Enforcement closed"))
    client.force_login(User.objects.create_superuser("root", "root@example.invalid", "pass-Word-123"))
    url = reverse("admin:core_auditevent_changelist")
    assert "追偿已结束" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Enforcement closed" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


# --- an upload run's errors, kept the same way ----------------------------------------------------


def test_an_upload_runs_errors_read_in_the_viewers_language_on_the_page_and_in_the_xlsx(client, people):
    from io import BytesIO

    from openpyxl import load_workbook

    from core.bulk import ImportRefused, RowError
    from core.models import ImportRun

    too_big = i18n_text.gettext_lazy("The file is larger than %(max)s MB.") % {"max": 5}
    with translation.override("en"):
        error = RowError(3, "amount", "GU-5", too_big).stored()
        refused = ImportRefused(too_big)
    common = {"kind": ImportRun.Kind.GUARANTEES, "organisation": people["firm"], "started_by": people["firm_user"],
              "target_id": 1, "file_name": "g.xlsx"}
    rejected = ImportRun.objects.create(**common, state=ImportRun.State.REJECTED, errors=[error])
    refused = ImportRun.objects.create(**common, state=ImportRun.State.REFUSED, message=i18n_text.dumps(refused.stored))
    client.force_login(people["firm_user"])
    for language, text in (("zh-hans", "文件大小超过 5 MB。"), ("en", "The file is larger than 5 MB.")):
        for run in (rejected, refused):
            page = client.get(reverse("imports:run", args=[run.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
            assert text in page, (language, run.state)
        book = client.get(reverse("imports:errors", args=[rejected.pk]), HTTP_ACCEPT_LANGUAGE=language)
        rows = list(load_workbook(BytesIO(book.content)).active.values)
        assert text in rows[1][3], language


def test_a_file_refused_while_an_english_speaker_uploads_keeps_its_msgid_for_the_run():
    from core.bulk import ImportRefused
    from core.upload_tables import read_table

    with translation.override("en"), pytest.raises(ImportRefused) as caught:
        read_table(b"\x00\x01binary" * 10)
    assert caught.value.message.startswith("This file is not an xlsx or csv file")  # shown at once, as before
    stored = i18n_text.dumps(caught.value.stored)
    assert chinese(stored).startswith("该文件不是 xlsx 或 csv 文件，其内容为二进制数据。")
    assert english(stored) == caught.value.message


def test_the_system_and_the_public_as_actors_read_in_the_viewers_language(client, people):
    from core.audit_display import actor_text

    with translation.override("zh-hans"):
        assert actor_text("system") == "系统" and actor_text("public") == "公众"
        assert actor_text("system (beat)") == f"系统（{label_of('beat')}）" and actor_text("alice") == "alice"
    with translation.override("en"):
        assert actor_text("system (JB-8 2025)") == "system (JB-8 2025)" and actor_text("public") == "the public"
    audit(actor="system (JB-8 2025)", action=AuditEvent.Action.RUN, instance=people["firm"],
          organisation=people["firm"], summary=i18n_text.gettext_lazy("Enforcement closed"))
    assert "系统（JB-8 2025）" in _page(client, people["authority"], "zh-hans")
    assert "system (JB-8 2025)" in _page(client, people["authority"], "en")


def test_an_ev14_outcome_in_a_summary_reads_as_its_label_not_its_code():
    summary = i18n_text.dumps(i18n_text.gettext_lazy("EV-14 findings: %(outcome)s") % {
        "outcome": i18n_text.label("exempt")})
    assert chinese(summary) == "EV-14 认定情况：" + chinese(i18n_text.dumps(i18n_text.gettext_lazy("Exempt (免责)")))
    assert "exempt" not in chinese(summary)
    assert english(summary) == "EV-14 findings: Exempt (免责)"
