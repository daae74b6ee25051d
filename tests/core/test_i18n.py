"""Russian by default, English on request, and every string translated."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "src" / "tropa" / "locale"

pytestmark = pytest.mark.django_db


def test_login_page_is_russian_by_default() -> None:
    body = Client().get("/accounts/login/").content.decode()
    assert "Войти" in body
    assert '<html lang="ru">' in body


def test_browser_language_english_is_honoured() -> None:
    body = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Log in" in body


def test_language_switch_without_javascript() -> None:
    client = Client()
    page = client.get("/accounts/login/")
    response = client.post(
        "/i18n/setlang/",
        {
            "language": "en",
            "next": "/accounts/login/",
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
    )
    assert response["Location"] == "/accounts/login/"
    assert "Every login needs a one-time code" in client.get("/accounts/login/").content.decode()


def test_every_russian_string_is_translated_and_compiled() -> None:
    po = polib.pofile(str(LOCALE / "ru" / "LC_MESSAGES" / "django.po"))
    assert po.percent_translated() == 100
    assert not po.fuzzy_entries()
    mo = polib.mofile(str(LOCALE / "ru" / "LC_MESSAGES" / "django.mo"))
    # The same English word can mean two things ("visa" the team, "visa" the document).
    compiled = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in mo}
    for entry in po.translated_entries():
        key = (entry.msgctxt, entry.msgid)
        assert compiled.get(key) == entry.msgstr, f"run `make messages`: {entry.msgid}"
