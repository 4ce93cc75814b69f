"""Content-Security-Policy (issue 10 point 8): scripts and styles only from this site's static
files. The header is sent on every page, and no template holds what the policy would refuse
(an inline <script>, a <style> element, a style attribute, an on… event handler, a javascript: URL),
so nothing on a page silently stops working. tests/browser/conftest.py fails any browser test
that meets a violation in the console."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# What script-src 'self' / style-src 'self' refuse when written into the page itself.
FORBIDDEN = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def _offences(text: str) -> list[str]:
    found = []
    for what, pattern in FORBIDDEN.items():
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"line {line}: {what}: {match.group(0).strip()}")
    return found


def test_csp_no_template_holds_inline_script_or_style():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 50  # the sweep covers the real folder, not an empty glob
    offences = {
        str(path.relative_to(TEMPLATES)): found
        for path in templates
        if (found := _offences(path.read_text(encoding="utf-8")))
    }
    assert offences == {}


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", '<script type="text/javascript">x()</script>', "<style>p{}</style>",
    '<div style="color:red">', "<p class=x style='a'>", '<button onclick="f()">', '<select onchange="f()">',
    '<a href="javascript:void(0)">',
])
def test_csp_template_check_catches_each_kind_of_inline_code(text):
    assert _offences(text)


@pytest.mark.parametrize("text", [
    '<script src="/static/js/app.js" defer></script>', '<div data-style="x" class="stat-link">',
    "<button data-print>", '<p class="bad">', "<progress value=3>",
])
def test_csp_template_check_passes_external_scripts_and_classes(text):
    assert _offences(text) == []


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.django_db
def test_csp_header_on_pages_allows_only_own_scripts_and_styles(client):
    for response in (client.get(reverse("login")), client.get(reverse("notice:notice-list"))):
        assert response.status_code == 200
        policy = _directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_csp_header_on_signed_in_pages(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not _offences(response.content.decode())


@pytest.mark.django_db
def test_csp_api_docs_load_swagger_from_this_site_with_no_inline_script(client):
    client.force_login(UserFactory())
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert _offences(page) == []
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert len(sources) == 3 and all(src.startswith("/") for src in sources), sources
    script = client.get(sources[-1])  # the split view's own script, with the schema URL in it
    assert script.status_code == 200 and reverse("api-schema") in script.content.decode()
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_csp_api_answers_json_not_the_browsable_html(client):
    client.force_login(UserFactory())
    response = client.get("/api/guarantees/guarantees/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("application/json")
