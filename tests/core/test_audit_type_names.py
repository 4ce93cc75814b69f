"""Issue 13 point 2: the audit trail names an object's type by the model's verbose name (and its
app's), never by an internal code such as "core.organisation", in both languages."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.core.test_pages import events, tree, world  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("lang", "name"), [("en", "organisation (Platform)"), ("zh-hans", "(平台基础数据)")])
def test_audit_list_shows_model_verbose_names_not_codes(client, world, events, lang, name):  # noqa: F811
    client.force_login(world["authority"])
    html = client.get(reverse("audit-list"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert name in html
    assert "(core.organisation)" not in html and "(core.apitoken)" not in html
    # The filter still takes the model's key.
    assert 'value="core.organisation"' in html
