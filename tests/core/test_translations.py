"""The Simplified Chinese catalogue is complete, compiled, and used.

* every entry of locale/zh_Hans/LC_MESSAGES/*.po is translated and none is fuzzy; placeholders
  and HTML tags survive the translation; the committed .mo says the same as the .po;
* a fresh `makemessages` over a copy of the source finds no string the catalogue lacks (needs
  GNU gettext: skipped without it, except with CI=true, where it fails);
* with Chinese active the navigation is Chinese; the login page follows Accept-Language and the
  language chosen through /i18n/setlang/.

When this fails after a source change: run the `makemessages` command in MAKEMESSAGES below,
translate the new entries in the .po, then `manage.py compilemessages --ignore=.venv`.
"""
from __future__ import annotations

import gettext as gnu_gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from core.context_processors import NAVIGATION

LANGUAGE = "zh_Hans"
LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / LANGUAGE / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
MAKEMESSAGES_IGNORE = (".venv", "tests", "test-artifacts", "staticfiles")
# What is not copied for the fresh extraction: never scanned, or large, or the catalogue itself.
COPY_IGNORE = (*MAKEMESSAGES_IGNORE, ".git", "locale", "media", ".test-media", ".hypothesis", "__pycache__",
               ".pytest_cache", "node_modules", "*.sqlite3", "*.pyc")
MAKEMESSAGES = ["makemessages", "-l", LANGUAGE, *(f"--ignore={p}" for p in MAKEMESSAGES_IGNORE), "--no-obsolete"]
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|%[sdif]|\{[A-Za-z_][A-Za-z0-9_]*\}")
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")


# --- a tiny .po reader (no dependency) -----------------------------------------------------------

@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    refs: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return self.msgctxt, self.msgid, self.msgid_plural

    @property
    def label(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt else ""
        return f"line {self.line}: {self.msgid!r}{context}"

    @property
    def translated(self) -> bool:
        wanted = range(1) if self.msgid_plural is None else range(max(len(self.msgstr), 1))
        return all(self.msgstr.get(i) for i in wanted) and "fuzzy" not in self.flags


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a PO string: {text}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header excluded; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish():
        if current is not None and (current.msgid or current.msgctxt is not None or current.msgid_plural):
            entries.append(current)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        # A comment, msgctxt or msgid after a msgstr opens the next entry.
        if line.startswith(("#", "msgctxt ", "msgid ")) and (current is None or current.msgstr):
            finish()
            current, target = Entry(line=number), None
        if line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
        elif line.startswith("#:"):
            current.refs += line[2:].split()
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            current.msgctxt, target = _unquote(line[8:]), ("msgctxt", None)
        elif line.startswith("msgid_plural "):
            current.msgid_plural, target = _unquote(line[13:]), ("msgid_plural", None)
        elif line.startswith("msgid "):
            current.msgid, current.line, target = _unquote(line[6:]), number, ("msgid", None)
        elif line.startswith("msgstr["):
            index, rest = line[7:].split("]", 1)
            current.msgstr[int(index)], target = _unquote(rest), ("msgstr", int(index))
        elif line.startswith("msgstr "):
            current.msgstr[0], target = _unquote(line[7:]), ("msgstr", 0)
        elif line.startswith('"') and target is not None:
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += _unquote(line)
            else:
                setattr(current, name, getattr(current, name) + _unquote(line))
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def committed_catalogues() -> dict[str, Path]:
    return {domain: LOCALE_DIR / f"{domain}.po" for domain in DOMAINS if (LOCALE_DIR / f"{domain}.po").exists()}


# --- (a) the committed catalogue -----------------------------------------------------------------

def test_the_chinese_catalogue_exists():
    assert (LOCALE_DIR / "django.po").exists(), f"no catalogue at {LOCALE_DIR / 'django.po'}"


def test_every_entry_is_translated_and_none_is_fuzzy():
    bad = []
    for path in committed_catalogues().values():
        entries = read_po(path)
        assert entries, f"{path} has no entries"
        bad += [f"{path.name} {e.label}{' [fuzzy]' if 'fuzzy' in e.flags else ' [empty]'}"
                for e in entries if not e.translated]
    assert not bad, f"{len(bad)} untranslated or fuzzy entries:\n" + "\n".join(bad)


def test_the_header_declares_chinese_and_one_plural_form():
    header = (LOCALE_DIR / "django.po").read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#, fuzzy" not in header, "the header is marked fuzzy: msgfmt would then ignore its charset"
    assert '"Language: zh_Hans\\n"' in header
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in header


def test_placeholders_and_html_tags_survive_translation():
    bad = []
    for e in (e for path in committed_catalogues().values() for e in read_po(path)):
        sources = [e.msgid] + ([e.msgid_plural] if e.msgid_plural else [])
        for text in e.msgstr.values():
            if not text:
                continue
            wanted = sorted(set().union(*(PLACEHOLDER.findall(s) for s in sources)))
            if sorted(set(PLACEHOLDER.findall(text))) != wanted:
                bad.append(f"{e.label}: placeholders {wanted} became {sorted(set(PLACEHOLDER.findall(text)))}")
            if sorted(HTML_TAG.findall(text)) != sorted(HTML_TAG.findall(e.msgid)):
                bad.append(f"{e.label}: HTML tags {HTML_TAG.findall(e.msgid)} became {HTML_TAG.findall(text)}")
    assert not bad, "\n".join(bad)


def test_the_committed_mo_matches_the_po():
    """The .mo is committed (machines without gettext use it as is): it must be the compiled .po."""
    stale = []
    for path in committed_catalogues().values():
        mo = path.with_suffix(".mo")
        assert mo.exists(), f"{mo} is missing: run manage.py compilemessages --ignore=.venv"
        with mo.open("rb") as handle:
            catalog = gnu_gettext.GNUTranslations(handle)._catalog
        stale += [f"{path.name} {e.label}" for e in read_po(path) if e.translated and _compiled(catalog, e) != e.msgstr]
    assert not stale, (
        f"the .mo is out of date with the .po for {len(stale)} entries; run manage.py compilemessages "
        "--ignore=.venv:\n" + "\n".join(stale)
    )


def _compiled(catalog: dict, e: Entry) -> dict[int, str | None]:
    msgid = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
    if e.msgid_plural is None:
        return {0: catalog.get(msgid)}
    return {i: catalog.get((msgid, i)) for i in e.msgstr}


# --- (b) the catalogue covers the current source -------------------------------------------------

def _fresh_extraction(workdir: Path) -> dict[str, list[Entry]]:
    """Run makemessages over a copy of the source; what it extracted, by domain."""
    source = workdir / "src"
    shutil.copytree(settings.BASE_DIR, source, ignore=shutil.ignore_patterns(*COPY_IGNORE), symlinks=True)
    (source / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)}
    extracted = {}
    for domain in DOMAINS:
        result = subprocess.run(
            [sys.executable, "manage.py", *MAKEMESSAGES, "-d", domain],
            cwd=source, env=env, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, f"makemessages -d {domain} failed:\n{result.stdout}\n{result.stderr}"
        fresh = source / "locale" / LANGUAGE / "LC_MESSAGES" / f"{domain}.po"
        extracted[domain] = read_po(fresh) if fresh.exists() else []
    return extracted


def test_every_string_in_the_source_is_in_the_catalogue():
    if not all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msguniq")):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but GNU gettext (xgettext, msgmerge, msguniq) is not installed: apt-get install gettext")
        pytest.skip("needs GNU gettext (xgettext) to re-extract the strings: apt-get install gettext")
    with tempfile.TemporaryDirectory(prefix="i18n-check-") as tmp:
        extracted = _fresh_extraction(Path(tmp))
    assert extracted["django"], "makemessages found no strings at all: the extraction itself is broken"
    missing = []
    for domain, fresh in extracted.items():
        path = LOCALE_DIR / f"{domain}.po"
        committed = {e.key: e for e in read_po(path)} if path.exists() else {}
        for e in fresh:
            context = f" (context {e.msgctxt!r})" if e.msgctxt else ""
            where = f" — {e.refs[0]}" if e.refs else ""
            have = committed.get(e.key)
            if have is None:
                missing.append(f"{domain}.po lacks {e.msgid!r}{context}{where}")
            elif not have.translated:
                missing.append(f"{domain}.po does not translate {e.msgid!r}{context}{where}")
    assert not missing, (
        f"{len(missing)} strings of the current source are not translated. Run "
        f"`manage.py {' '.join(MAKEMESSAGES)}`, translate them in locale/{LANGUAGE}/LC_MESSAGES/, then "
        "`manage.py compilemessages --ignore=.venv`:\n" + "\n".join(missing)
    )


# --- (c) the catalogue is used ------------------------------------------------------------------

def test_navigation_labels_are_chinese_when_chinese_is_active():
    with translation.override("zh-hans"):
        labels = {str(label) for label, _name, _visible in NAVIGATION}
        assert translation.gettext("Guarantees") == "担保业务"
    not_chinese = sorted(label for label in labels if not CJK.search(label) and label != "API")
    assert not not_chinese, f"navigation labels not translated: {not_chinese}"
    with translation.override("en"):
        assert translation.gettext("Guarantees") == "Guarantees"


@pytest.mark.django_db
def test_login_page_follows_accept_language(client):
    chinese = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 200
    assert '<html lang="zh-hans">' in chinese.content.decode()
    assert "登录" in chinese.content.decode() and "用户名" in chinese.content.decode()

    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in" in english.content.decode() and "登录" not in english.content.decode()


@pytest.mark.django_db
def test_chinese_is_the_default_and_setlang_switches_to_english(client, settings):
    from config.settings import base

    assert base.LANGUAGE_CODE == "zh-hans"
    settings.LANGUAGE_CODE = base.LANGUAGE_CODE  # the deployed default, whatever the test settings say
    default = client.get(reverse("login"))  # no Accept-Language, no cookie: LANGUAGE_CODE
    assert "登录" in default.content.decode()

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-hans")  # the cookie wins
    assert "Sign in" in english.content.decode() and "User name" in english.content.decode()
    assert "登录" not in english.content.decode()

    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert "登录" in client.get(reverse("login")).content.decode()


def test_no_translation_function_hides_behind_an_alias_makemessages_does_not_know():
    """makemessages finds gettext, gettext_lazy, ngettext … and ``_``; a string marked with
    another alias (``_g("…")``) is never extracted, so it would stay English unnoticed."""
    alias = re.compile(r"from django\.utils\.translation import .*\b(\w*gettext\w*) as (?!_\b)(\w+)")
    offenders = []
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        if any(part in MAKEMESSAGES_IGNORE or part == "migrations" for part in path.parts):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if alias.search(line):
                offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
