"""S10 at the Telegram edge: any update shape is parsed or ignored, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.intake.channels.telegram.services import parse_update

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
known_keys = st.sampled_from(
    [
        "update_id",
        "message",
        "callback_query",
        "chat",
        "id",
        "type",
        "text",
        "data",
        "message_id",
        "photo",
        "document",
        "file_id",
        "caption",
        "edited_message",
        "channel_post",
    ]
)
shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(known_keys, children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(shaped)
def test_any_update_shape_is_parsed_or_ignored(update: Any) -> None:
    parsed = parse_update(update)
    if parsed is not None:
        assert isinstance(parsed.chat_id, int)
        assert parsed.inbound.kind in {"start", "text", "choice", "file"}


def test_a_group_message_is_ignored() -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "chat": {"id": -5, "type": "group"}, "text": "hi"},
    }
    assert parse_update(update) is None


def test_a_private_text_is_parsed_and_truncated_to_telegrams_limit() -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 7, "chat": {"id": 5, "type": "private"}, "text": "x" * 10000},
    }
    parsed = parse_update(update)
    assert parsed is not None and parsed.message_id == 7 and len(parsed.inbound.text) == 4096


def test_a_photo_becomes_a_file_reference_with_its_caption() -> None:
    update = {
        "update_id": 2,
        "message": {
            "message_id": 8,
            "chat": {"id": 5, "type": "private"},
            "caption": "passport",
            "photo": [{"file_id": "small"}, {"file_id": "large"}],
        },
    }
    parsed = parse_update(update)
    assert parsed is not None and parsed.inbound.kind == "file"
    assert (parsed.inbound.file_ref, parsed.inbound.text) == ("large", "passport")


def test_true_is_not_a_chat_id() -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "chat": {"id": True, "type": "private"}, "text": "x"},
    }
    assert parse_update(update) is None
