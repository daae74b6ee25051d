"""Channel hooks: what a channel must do when intake asks it to wipe a chat.

Channels register a handler (the Telegram channel deletes every message it
knows of in that chat; the web chat ends its session). This is the one
place intake calls back into channels, so intake never imports a channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tropa.intake.models import Conversation

_wipe_handlers: dict[str, Callable[[Conversation], None]] = {}


def register_wipe_handler(channel: str, handler: Callable[[Conversation], None]) -> None:
    _wipe_handlers[channel] = handler


def chat_wipe_requested(conversation: Conversation) -> None:
    handler = _wipe_handlers.get(conversation.channel)
    if handler is not None:
        handler(conversation)
