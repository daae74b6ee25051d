"""S10 at the Telegram edge: any update, any body, any header gets 200 or a clear 4xx.

`parse_update` meets arbitrary JSON (recursive shapes with Telegram's own keys,
integers beyond 64 bits, lone surrogates); the webhook meets arbitrary bytes,
broken UTF-8, JSON nested past Python's recursion limit, wrong content types
and methods, and bodies past its size limit. Never a 500, never an exception.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st

from tests.conftest import Organisation
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import any_char, hostile_text, json_scalars, json_values
from tropa.intake.channels.telegram.services import MAX_TEXT, parse_update

SECRET = "fuzz-webhook-secret"
URL = "/telegram/webhook/"
HEADERS = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
INT64 = range(-(2**63), 2**63)
# A clear answer: processed or acknowledged (200), refused (400 malformed or too
# big for Django, 403 wrong secret, 405 wrong method). Never 500.
CLEAR = {200, 400, 403, 405}

KEYS = [
    "update_id",
    "message",
    "callback_query",
    "edited_message",
    "chat",
    "id",
    "type",
    "text",
    "caption",
    "data",
    "message_id",
    "photo",
    "document",
    "file_id",
]
ids = st.integers(-(2**53), 2**53) | st.integers(-(2**80), 2**80) | st.booleans() | json_scalars
shaped = st.recursive(
    json_values(15),
    lambda children: st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
    max_leaves=30,
)
chat = st.fixed_dictionaries(
    {"id": ids, "type": st.sampled_from(["private", "group", "channel", "PRIVATE"]) | hostile_text}
)
message = st.fixed_dictionaries(
    {"message_id": ids, "chat": chat},
    optional={
        "text": hostile_text | json_scalars,
        "caption": hostile_text,
        "photo": st.lists(st.fixed_dictionaries({"file_id": hostile_text | ids}), max_size=3)
        | shaped,
        "document": st.fixed_dictionaries({"file_id": hostile_text | ids}) | shaped,
    },
)
callback = st.fixed_dictionaries(
    {"id": hostile_text | ids, "data": hostile_text | ids, "message": message}
)
# Nearly Telegram's shape, so that parsing gets past its first checks.
plausible = st.fixed_dictionaries({"update_id": ids}, optional={"message": message}) | (
    st.fixed_dictionaries({"update_id": ids, "callback_query": callback})
)


def _storable(text: str | None) -> None:
    if text is not None:
        text.encode("utf-8")  # no lone surrogates: the text is hashed and encrypted later


@fuzz_settings(400)
@given(shaped | plausible)
def test_any_update_parses_to_a_bounded_message_or_nothing(update: Any) -> None:
    parsed = parse_update(update)
    event("parsed" if parsed else "ignored")
    if parsed is None:
        return
    for number in (parsed.update_id, parsed.chat_id, parsed.message_id or 0):
        assert type(number) is int and number in INT64  # fits a BIGINT column
    inbound = parsed.inbound
    assert inbound.kind in {"start", "text", "choice", "file"}
    assert len(inbound.text) <= MAX_TEXT and len(inbound.choice or "") <= 64
    for text in (inbound.text, inbound.choice, inbound.file_ref, parsed.callback_id):
        _storable(text)


@pytest.fixture
def webhook(org: Organisation, settings: Any) -> Client:
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    return Client()


def post_json(client: Client, update: Any) -> int:
    body = json.dumps(update, ensure_ascii=True)  # lone surrogates travel as escapes
    return client.post(URL, body, content_type="application/json", **HEADERS).status_code


@pytest.mark.django_db
@fuzz_settings(60)
@given(st.lists(plausible, min_size=1, max_size=4), st.integers(1, 2**40))
def test_any_update_sequence_in_one_chat_is_answered(
    webhook: Client, updates: list[dict[str, Any]], chat_id: int
) -> None:
    for update in updates:
        carrier = update.get("callback_query", update)
        if isinstance(carrier.get("message"), dict):  # all in one private chat
            carrier["message"]["chat"] = {"id": chat_id, "type": "private"}
        assert post_json(webhook, update) == 200


bodies = st.one_of(
    st.binary(max_size=200),
    st.text(any_char, max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    json_values().map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"",
            b"\xff\xfe\x00{",
            b'{"update_id": 1, "message": {"text": "\xc3\x28"}}',
            b'{"update_id": 1e400}',
            b"[" * 100_000,
            b'{"a":' * 100_000,
            b"[" * 1_100_000,  # over the webhook's own 1 MB limit
            b"1" * 3_000_000,  # over Django's 2.5 MB limit for a body read in memory
        ]
    ),
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "\x00/\xff"]
)


@pytest.mark.django_db
@fuzz_settings(120)
@given(bodies, content_types, st.sampled_from(["post", "put", "get"]), st.booleans())
def test_any_body_gets_a_clear_answer(
    webhook: Client, body: bytes, content_type: str, method: str, signed: bool
) -> None:
    headers = HEADERS if signed else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "x" * 40}
    send = getattr(webhook, method)
    if method == "get":
        response = send(URL, **headers)
    else:
        response = send(URL, body, content_type=content_type, **headers)
    assert response.status_code in CLEAR
    if not signed:
        assert response.status_code in (403, 405)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"update_id":' * 50_000])
def test_json_nested_past_the_recursion_limit_is_acknowledged(webhook: Client, body: bytes) -> None:
    """Found by the fuzzer: json.loads raised RecursionError, a 500 for Telegram to retry."""
    response = webhook.post(URL, body, content_type="application/json", **HEADERS)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["update_id", "message_id", "chat_id"])
def test_an_id_beyond_64_bits_is_ignored(webhook: Client, field: str) -> None:
    """Found by the fuzzer: a message_id of 2**70 overflowed the BIGINT column (a 500)."""
    huge = 2**70
    update = {
        "update_id": huge if field == "update_id" else 1,
        "message": {
            "message_id": huge if field == "message_id" else 7,
            "chat": {"id": huge if field == "chat_id" else 5, "type": "private"},
            "text": "hello",
        },
    }
    assert parse_update(update) is None
    assert post_json(webhook, update) == 200


def test_a_lone_surrogate_in_an_update_becomes_a_replacement_character() -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 2, "chat": {"id": 3, "type": "private"}, "text": "a\ud800b"},
    }
    parsed = parse_update(update)
    assert parsed is not None and parsed.inbound.text == "a\ufffdb"
