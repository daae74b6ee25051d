"""The web chat as an applicant meets it: plain forms, no JavaScript, a codename at the end."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import Organisation, keychain_of
from tropa.cases.models import Case
from tropa.cases.services import case_unlock
from tropa.intake.models import Conversation

pytestmark = pytest.mark.django_db


def _page(client: Client) -> Any:
    response = client.get("/chat/")
    assert response.status_code == 200
    return response


def _press(client: Client, label: str) -> Any:
    """Press the button whose label contains `label` on the current page."""
    buttons = _page(client).context["buttons"]
    matches = [value for value, text in buttons if label.casefold() in text.casefold()]
    assert matches, f"no button {label!r} among {[text for _, text in buttons]}"
    response = client.post("/chat/", {"choice": matches[0]})
    assert response.status_code == 302, response.content.decode()[-500:]
    return response


def _say(client: Client, text: str) -> Any:
    response = client.post("/chat/", {"text": text})
    assert response.status_code in (302, 400)
    return response


def _transcript(client: Client) -> str:
    return "\n".join(line["text"] for line in _page(client).context["transcript"])


def complete_intake(client: Client, *, language: str = "English", pin: str | None = None) -> Any:
    client.post("/chat/", {"start": "1"})
    _press(client, language)
    english = language == "English"
    _press(client, "myself" if english else "себя")
    _press(client, "Mobilised" if english else "Мобилизован")
    _press(client, "days" if english else "дн")
    _press(client, "Yes" if english else "Да")  # internal passport
    _press(client, "No" if english else "Нет")  # foreign passport
    _press(client, "Yes" if english else "Да")  # military id
    buttons = _page(client).context["buttons"]
    _press(client, buttons[0][1])  # a region
    buttons = _page(client).context["buttons"]
    _press(client, buttons[0][1])  # help wanted
    _say(client, "My unit leaves on Friday, I need advice.")
    if pin:
        _press(client, "Yes" if english else "Да")
        _say(client, pin)
    else:
        _press(client, "No" if english else "Нет")
    _press(client, "Yes" if english else "Да")  # consent
    return _page(client)


def test_a_full_intake_ends_with_a_codename_and_a_passphrase(org: Organisation) -> None:
    client = Client()
    page = complete_intake(client)
    issued = page.context["issued"]
    assert issued and issued["codename"] and len(issued["passphrase"].split()) == 4
    case = Case.objects.get(codename=issued["codename"])
    assert case.channel == "web" and case.category == "mobilised" and case.urgency > 50
    assert issued["codename"] in _transcript(client)

    opened = case_unlock(case=case, keychain=keychain_of(org.coordinator))
    bodies = [entry for entry in opened.entries.all()]
    for entry in bodies:
        entry.case = opened
    assert any("My unit leaves on Friday" in entry.body for entry in bodies)
    # The passphrase is shown once, then never again.
    assert _page(client).context["issued"] is None


def test_intake_answers_are_forgotten_by_the_chat_once_sealed(org: Organisation) -> None:
    client = Client()
    complete_intake(client)
    conversation = Conversation.objects.get(channel="web")
    assert "My unit leaves on Friday" not in repr(conversation.transcript)
    assert conversation.state.get("completed") is True
    assert not conversation.state.get("answers")
    assert "My unit leaves on Friday" not in repr(conversation.state)


def test_later_messages_reach_the_case_and_replies_come_back(org: Organisation) -> None:
    from tropa.intake.services import relay_reply

    client = Client()
    issued = complete_intake(client).context["issued"]
    _say(client, "Any news? I am still at home.")
    case = Case.objects.get(codename=issued["codename"])
    keychain = keychain_of(org.coordinator)
    relay_reply(
        case=case_unlock(case=case, keychain=keychain),
        keychain=keychain,
        text="We are working on it.",
    )
    transcript = _transcript(client)
    assert "Oriole: We are working on it." in transcript
    opened = case_unlock(case=Case.objects.get(pk=case.pk), keychain=keychain)
    entries = list(opened.entries.all())
    for entry in entries:
        entry.case = opened
    assert "Any news? I am still at home." in [entry.body for entry in entries]


def test_codename_and_passphrase_bring_the_person_back(org: Organisation) -> None:
    first = Client()
    issued = complete_intake(first).context["issued"]
    other_browser = Client()
    wrong = other_browser.post(
        "/chat/return/", {"codename": issued["codename"], "passphrase": "apple apple apple apple"}
    )
    assert wrong.status_code == 400
    assert "не совпадают" in wrong.content.decode()
    right = other_browser.post(
        "/chat/return/",
        {"codename": issued["codename"].lower(), "passphrase": issued["passphrase"].upper()},
    )
    assert right["Location"] == "/chat/"
    _say(other_browser, "Back again")
    case = Case.objects.get(codename=issued["codename"])
    assert case.entries.filter(kind="message_in").count() == 1


def test_russian_is_the_default_and_the_whole_flow_works_in_russian(org: Organisation) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    assert "Выберите язык" in _transcript(client)
    page = complete_intake(client, language="Русский")
    assert page.context["issued"]["codename"] in _transcript(client)
    assert Case.objects.get().language == "ru"


def test_duress_pin_flags_the_case_and_answers_normally(org: Organisation) -> None:
    from tropa.intake.services import relay_reply

    client = Client()
    issued = complete_intake(client, pin="4321").context["issued"]
    _say(client, "hello?")
    before = _transcript(client)
    _say(client, "4321")
    after = _transcript(client)
    assert after.count("\n") >= before.count("\n")  # it answered as to any message
    case = Case.objects.get(codename=issued["codename"])
    assert case.compromised_at is not None and case.compromised_reason == "duress_pin"
    assert (
        not case.entries.filter(kind="message_in")
        .exclude(pk__in=case.entries.filter(kind="message_in")[:1])
        .exists()
    )
    keychain = keychain_of(org.coordinator)
    relay_reply(
        case=case_unlock(case=case, keychain=keychain),
        keychain=keychain,
        text="Meet at the station",
    )
    assert "Meet at the station" not in _transcript(client)


def test_panic_word_ends_the_chat_and_forgets_an_unfinished_intake(org: Organisation) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    _press(client, "English")
    _say(client, "/forget")
    assert not Conversation.objects.get(channel="web").state["answers"]
    page = _page(client)
    assert not page.context["started"]


@pytest.mark.parametrize(
    "text",
    [
        "\u202eevil\u202c",
        "a\x00b\x07c",
        "x" * 4001,
        "   ",
        "\ud800".encode("utf-8", "replace").decode(),
    ],
)
def test_hostile_text_gets_a_clear_answer(org: Organisation, text: str) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    response = client.post("/chat/", {"text": text})
    assert response.status_code in (302, 400)
    assert _page(client).status_code == 200


def test_too_many_messages_are_slowed_down(org: Organisation) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    statuses = [client.post("/chat/", {"text": f"message {n}"}).status_code for n in range(25)]
    assert statuses[:19] == [302] * 19
    assert set(statuses[19:]) == {400}
    refused = client.post("/chat/", {"text": "again"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Too many messages at once" in refused.content.decode()


def test_leaving_clears_the_session(org: Organisation) -> None:
    client = Client()
    client.post("/chat/", {"start": "1"})
    client.post("/chat/leave/")
    assert not _page(client).context["started"]


def test_notices_about_the_case_appear_in_the_web_chat(org: Organisation) -> None:
    from tropa.cases.services import case_transition

    client = Client()
    issued = complete_intake(client).context["issued"]
    case = Case.objects.get(codename=issued["codename"])
    keychain = keychain_of(org.coordinator)
    case_transition(case=case, target="triage", keychain=keychain)
    case_transition(case=case, target="verification", keychain=keychain)
    assert "confirm who you are" in _transcript(client)


def test_guessing_a_passphrase_is_cut_off_after_five_wrong_tries(org: Organisation) -> None:
    issued = complete_intake(Client()).context["issued"]
    guesser = Client()
    for guess in range(5):
        wrong = {"codename": issued["codename"], "passphrase": f"apple river stone {guess}"}
        assert guesser.post("/chat/return/", wrong).status_code == 400
    # Now even the right passphrase is refused, with the same answer, for ten minutes.
    right = {"codename": issued["codename"], "passphrase": issued["passphrase"]}
    refused = guesser.post("/chat/return/", right)
    assert refused.status_code == 400 and "не совпадают" in refused.content.decode()
    # Another codename is not slowed down by these guesses.
    other = complete_intake(Client()).context["issued"]
    back = Client().post("/chat/return/", other)
    assert back.status_code == 302


def test_a_seized_database_cannot_test_a_passphrase_guess(org: Organisation, settings: Any) -> None:
    """The stored form is keyed with a key outside the database: with the
    database alone, not even the right passphrase can be confirmed."""
    import hashlib
    import hmac as hmac_module

    from django.contrib.auth.hashers import check_password, identify_hasher

    issued = complete_intake(Client()).context["issued"]
    stored = Conversation.objects.get(case__codename=issued["codename"]).passphrase_hash
    with pytest.raises(ValueError):
        identify_hasher(stored)  # no password hash a cracker could run offline
    assert not check_password(issued["passphrase"], stored)
    digest = stored.removeprefix("hmac$")
    for key in (b"", b"tropa", settings.SECRET_KEY.encode()):
        guess = hmac_module.new(key, issued["passphrase"].encode(), hashlib.sha256).hexdigest()
        assert guess != digest
    # With another blind-index key (a copy of the database on another server) it fails.
    settings.BLIND_INDEX_KEY = "another-blind-index-key-" + "q" * 40
    assert Client().post("/chat/return/", issued).status_code == 400


def test_a_passphrase_issued_before_the_keyed_form_still_works(org: Organisation) -> None:
    from django.contrib.auth.hashers import make_password

    issued = complete_intake(Client()).context["issued"]
    conversation = Conversation.objects.get(case__codename=issued["codename"])
    Conversation.objects.filter(pk=conversation.pk).update(
        passphrase_hash=make_password(issued["passphrase"])
    )
    assert Client().post("/chat/return/", issued)["Location"] == "/chat/"


def test_showing_the_chat_writes_nothing_but_a_message_does(org: Organisation) -> None:
    """A page view only reads (no write lock, no commit on the applicant's behalf);
    the flow's answers are in the transcript at once, and a caseworker's reply is
    shown once, on the next page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.post("/chat/", {"start": "1"})
    _press(client, "English")
    with CaptureQueriesContext(connection) as page:
        assert "Who are you writing for?" in _transcript(client)
    writes = [q["sql"] for q in page if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    with CaptureQueriesContext(connection) as message:
        _press(client, "myself")
    assert any(q["sql"].startswith("UPDATE") for q in message)
    transcript = _page(client).context["transcript"]
    assert [line["from"] for line in transcript[-2:]] == ["you", "tropa"]
    assert "myself" in transcript[-2]["text"].casefold()
