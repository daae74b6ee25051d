"""A stand-in for the Telegram Bot API, for tests and benchmarks.

It is a real HTTP server on 127.0.0.1 (a free port), so the bot under test talks to it
through its ordinary HTTP client, aiogram included::

    with StandIn() as telegram:
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.url)))
        telegram.push_text(chat_id=42, text="hello")
        ...
        telegram.wait_sent("sendMessage")

The server runs in its own thread with its own event loop, so it serves sync tests and async
tests alike, and everything on the test side (push_*, fail_next, sent, ...) is thread-safe.

It follows the real API where tests can notice: the ``/bot{token}/{method}`` and
``/file/bot{token}/{path}`` paths, case-insensitive method names, GET query strings, JSON,
url-encoded and multipart bodies (all values arrive as strings from aiogram, which also
leaves out every falsy parameter, so defaults must be the API's), ``{"ok": false,
"error_code", "description", "parameters"}`` errors with the HTTP status equal to the error
code, long polling with offset confirmation, 409 for concurrent getUpdates or getUpdates
while a webhook is set, per-chat message ids shared between the user's and the bot's
messages, "message to delete not found", "message is not modified" and friends.

Where it knowingly differs: setWebhook accepts http:// and any port (tests use localhost),
updates are not pushed to a set webhook by themselves (call ``deliver_webhook``), @username
chat ids are "chat not found", and any chat may be written to (``block`` simulates 403).

Nothing here logs message text, chat ids, tokens or URLs: only method names and statuses.
The aiohttp access log is off for the same reason (it would log the token in the path).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import logging
import math
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

Json = dict[str, Any]
T = TypeVar("T")
ChatId = int | str

TOKEN_SHAPE = re.compile(r"^\d+:[\w-]+$")
SECRET_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_TEXT = 4096
MAX_UPLOAD = 50 * 1024 * 1024  # the real API's limit for bot uploads

# Counted against enforce_limits(): Telegram's flood limits are about sending messages.
# Edits count too in practice; deletes, callback answers and chat actions do not.
RATE_LIMITED = frozenset({"sendMessage", "editMessageText"})

# Parameters whose string form (url-encoded or multipart, which is all aiogram sends) has to
# be turned back into the type the API means.
INT_PARAMS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections"}
    | {"reply_to_message_id", "message_thread_id", "from_chat_id"}
)
BOOL_PARAMS = frozenset(
    {"show_alert", "drop_pending_updates", "disable_notification", "protect_content"}
    | {"allow_sending_without_reply", "disable_web_page_preview"}
)
JSON_PARAMS = frozenset(
    {"reply_markup", "allowed_updates", "message_ids", "entities", "caption_entities"}
    | {"link_preview_options", "reply_parameters"}
)

OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

ERROR_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class BotAPIError(Exception):
    """An error answer, in Telegram's shape."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    @classmethod
    def too_many_requests(cls, retry_after: int) -> BotAPIError:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def payload(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> BotAPIError:
    return BotAPIError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class Upload:
    """A file the client uploaded in a multipart body."""

    filename: str | None
    content: bytes


@dataclass(frozen=True)
class Call:
    """One API request as the stand-in saw it: normalised params, arrival, answer."""

    method: str
    params: Json
    at: float  # time.monotonic() on arrival
    status: int = 200
    via: str = "http"  # or "webhook-response": a method returned in a webhook's answer

    @property
    def chat_id(self) -> ChatId | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int | str) else None


@dataclass(frozen=True)
class WebhookDelivery:
    """What happened when an update was posted to a webhook."""

    status: int
    body: str
    reply: Call | None = None  # the method the bot returned in its answer, if any


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str | None
    times: int


@dataclass
class _Limits:
    """Sliding one-second windows (t - 1, t] over accepted sends, as Telegram states them
    (shortened by ``allowance``). Kept apart from ratelimit.SlidingWindow on purpose: the
    stand-in judges the scheduler, so it must not share its arithmetic."""

    global_per_second: int
    per_chat_per_second: int
    allowance: float  # seconds of arrival jitter forgiven, see enforce_limits()
    everyone: deque[float] = field(default_factory=deque)
    chats: dict[ChatId, deque[float]] = field(default_factory=dict)

    def check(self, chat_id: ChatId | None, now: float) -> None:
        self._check(self.everyone, self.global_per_second, now)
        if chat_id is not None:
            self._check(self.chats.setdefault(chat_id, deque()), self.per_chat_per_second, now)

    def count(self, chat_id: ChatId | None, now: float) -> None:
        self.everyone.append(now)
        if chat_id is not None:
            self.chats.setdefault(chat_id, deque()).append(now)

    def _check(self, window: deque[float], capacity: int, now: float) -> None:
        length = 1.0 - self.allowance
        while window and window[0] <= now - length:
            window.popleft()
        if len(window) >= capacity:
            # Telegram only ever says whole seconds, rounded up, and at least one.
            wait = window[len(window) - capacity] + length - now
            raise BotAPIError.too_many_requests(max(1, math.ceil(wait)))


class StandIn:
    """A scriptable Telegram Bot API server for one bot."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "tropa_test_bot",
        first_update_id: int = 100_000,
    ) -> None:
        if token is not None and not TOKEN_SHAPE.match(token):
            raise ValueError("a bot token looks like 123456:ABC-def")
        self._token = token  # None: any well-formed token is accepted
        self._bot_username = bot_username
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._url: str | None = None
        self._closing = False
        self._updates_event: asyncio.Event | None = None
        # state, all guarded by _lock
        self._next_update_id = first_update_id
        self._updates: deque[Json] = deque()
        self._poll_generation = 0
        self._superseded_by = OTHER_POLL  # why a waiting getUpdates was ended
        self._calls: list[Call] = []
        self._deleted: list[tuple[ChatId, int]] = []
        self._too_many_requests = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._limits: _Limits | None = None
        self._last_message_id: dict[ChatId, int] = {}
        self._messages: dict[tuple[ChatId, int], Json] = {}
        self._users: dict[int, Json] = {}
        self._callbacks: set[str] = set()
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._blocked: set[ChatId] = set()
        self._webhook: Json | None = None
        self._bot_token = token or "0:"  # the token in use, for the bot's id in "from"
        self._methods: dict[str, Callable[[Json], Any]] = {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            # accepted and forgotten: bots call them at start-up or while typing
            "sendChatAction": _true,
            "setMyCommands": _true,
            "deleteMyCommands": _true,
        }
        self._method_names = {name.lower(): name for name in [*self._methods, "getUpdates"]}

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving in a thread of its own; returns once the port is open."""
        if self._thread is not None:
            raise RuntimeError("the stand-in is already running")
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._closing = False
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="telegram-standin", daemon=True
        )
        self._thread.start()
        try:
            ready.result(timeout=10)
        except BaseException:
            self._thread = None
            raise
        return self

    def stop(self) -> None:
        """Stop serving: open long polls are answered empty, then the port is closed."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, for ``TelegramAPIServer.from_base(url)``."""
        if self._url is None:
            raise RuntimeError("start the stand-in first")
        return self._url

    # --- scripting, from the test side -------------------------------------------------

    def push_update(self, update: Json) -> Json:
        """Queue an update for getUpdates; an ``update_id`` is given if it has none."""
        with self._lock:
            update = json.loads(json.dumps(update))  # a private copy, and proof it is JSON
            self._number(update)
            self._updates.append(update)
        self._wake_pollers()
        return update

    def push_text(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Applicant"
    ) -> Json:
        """An applicant writes ``text``; returns the queued update."""
        return self.push_update(
            self.text_update(chat_id, text, user_id=user_id, first_name=first_name)
        )

    def push_callback(
        self, chat_id: int, data: str, message_id: int, *, user_id: int | None = None
    ) -> Json:
        """An applicant presses an inline button with ``data`` under message ``message_id``."""
        return self.push_update(self.callback_update(chat_id, data, message_id, user_id=user_id))

    def push_photo(
        self,
        chat_id: int,
        file_bytes: bytes,
        caption: str | None = None,
        *,
        user_id: int | None = None,
    ) -> Json:
        """An applicant sends a photo; getFile and the file URL then serve ``file_bytes``."""
        return self.push_update(self.photo_update(chat_id, file_bytes, caption, user_id=user_id))

    def push_document(
        self,
        chat_id: int,
        file_bytes: bytes,
        file_name: str,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        user_id: int | None = None,
    ) -> Json:
        """An applicant sends a document (a scan, a PDF of a call-up)."""
        update = self.document_update(
            chat_id, file_bytes, file_name, mime_type=mime_type, caption=caption, user_id=user_id
        )
        return self.push_update(update)

    # Update builders: realistic Update JSON without queueing it, e.g. for deliver_webhook.
    # They take the next message id of the chat, as the applicant's message would.

    def text_update(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Applicant"
    ) -> Json:
        """A text message; a leading /command gets its bot_command entity, as on Telegram."""
        message = self._user_message(chat_id, user_id, first_name)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"message": message}

    def callback_update(
        self, chat_id: int, data: str, message_id: int, *, user_id: int | None = None
    ) -> Json:
        with self._lock:
            query_id = str(secrets.randbelow(10**18))
            self._callbacks.add(query_id)
            message = self._messages.get((chat_id, message_id)) or {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id),
            }
            user = self._user(user_id or chat_id)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(abs(hash(chat_id))),
            "data": data,
        }
        return {"callback_query": query}

    def photo_update(
        self,
        chat_id: int,
        file_bytes: bytes,
        caption: str | None = None,
        *,
        user_id: int | None = None,
    ) -> Json:
        file = self.add_file(file_bytes, folder="photos", suffix=".jpg")
        message = self._user_message(chat_id, user_id, "Applicant")
        message["photo"] = [{**file, "width": 1280, "height": 960}]
        if caption is not None:
            message["caption"] = caption
        return {"message": message}

    def document_update(
        self,
        chat_id: int,
        file_bytes: bytes,
        file_name: str,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        user_id: int | None = None,
    ) -> Json:
        suffix = "." + file_name.rsplit(".", 1)[-1] if "." in file_name else ""
        file = self.add_file(file_bytes, folder="documents", suffix=suffix)
        message = self._user_message(chat_id, user_id, "Applicant")
        message["document"] = {**file, "file_name": file_name, "mime_type": mime_type}
        if caption is not None:
            message["caption"] = caption
        return {"message": message}

    def add_file(self, content: bytes, *, folder: str = "documents", suffix: str = "") -> Json:
        """Store a file; returns its file_id, file_unique_id and file_size."""
        with self._lock:
            number = len(self._files)
            file_id = f"AgAC{secrets.token_urlsafe(24)}"
            self._files[file_id] = (f"{folder}/file_{number}{suffix}", content)
        return {
            "file_id": file_id,
            "file_unique_id": f"AQAD{secrets.token_urlsafe(8)}",
            "file_size": len(content),
        }

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (429: retry_after)."""
        failure = _Failure(status, retry_after if status == 429 else None, description, times)
        with self._lock:
            self._failures.setdefault(method.lower(), deque()).append(failure)

    def enforce_limits(
        self,
        global_per_second: int | None = 30,
        per_chat_per_second: int = 1,
        *,
        allowance: float = 0.0,
    ) -> None:
        """Answer 429 to sends beyond these rates; ``None`` turns enforcement off.

        ``allowance`` shortens the one-second window by that many seconds: a client that
        paces itself exactly still has its requests arrive with some jitter, and the real
        Telegram is not that exact either.
        """
        with self._lock:
            if global_per_second is None:
                self._limits = None
            else:
                self._limits = _Limits(global_per_second, per_chat_per_second, allowance)

    def block(self, chat_id: ChatId) -> None:
        """The applicant blocked the bot: sends to this chat get 403 from now on."""
        with self._lock:
            self._blocked.add(chat_id)

    # --- observing ---------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request, getUpdates and refused ones included."""
        with self._lock:
            return list(self._calls)

    @property
    def sent(self) -> list[Call]:
        """Accepted requests except getUpdates: what the bot actually did."""
        with self._lock:
            return [c for c in self._calls if c.status == 200 and c.method != "getUpdates"]

    @property
    def deleted(self) -> list[tuple[ChatId, int]]:
        with self._lock:
            return list(self._deleted)

    @property
    def too_many_requests(self) -> int:
        """How many 429s were answered, scripted or enforced."""
        with self._lock:
            return self._too_many_requests

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return len(self._updates)

    @property
    def webhook(self) -> Json | None:
        with self._lock:
            return None if self._webhook is None else dict(self._webhook)

    def texts(self, chat_id: ChatId | None = None) -> list[str]:
        """Texts of accepted sendMessage calls, optionally for one chat."""
        return [
            c.params["text"]
            for c in self.sent
            if c.method == "sendMessage" and (chat_id is None or c.chat_id == chat_id)
        ]

    def wait_sent(
        self, method: str, count: int = 1, *, timeout: float = 5.0, chat_id: ChatId | None = None
    ) -> list[Call]:
        """Block until ``count`` accepted calls of ``method`` were made; returns them."""

        def matching() -> list[Call]:
            return [
                c
                for c in self._calls
                if c.status == 200
                and c.method.lower() == method.lower()
                and (chat_id is None or c.chat_id == chat_id)
            ]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout):
                raise TimeoutError(f"{method}: {len(matching())} of {count} calls after {timeout}s")
            return matching()

    async def wait_sent_async(
        self, method: str, count: int = 1, *, timeout: float = 5.0, chat_id: ChatId | None = None
    ) -> list[Call]:
        """``wait_sent`` for async tests: waits in a worker thread, not on the caller's loop."""
        return await asyncio.to_thread(
            self.wait_sent, method, count, timeout=timeout, chat_id=chat_id
        )

    # --- webhooks ----------------------------------------------------------------------

    def deliver_webhook(
        self, url: str, secret_token: str | None, update: Json, *, timeout: float = 30.0
    ) -> WebhookDelivery:
        """POST ``update`` to a webhook as Telegram does, from a sync test.

        A method the bot returns in its answer (aiogram does, for a handler that returns a
        method, with ``handle_in_background=False``) is carried out like an API call, as
        Telegram does. From an async test whose loop serves the webhook, use
        ``deliver_webhook_async``: this one would block that loop.
        """
        future = self._submit(self._deliver(url, secret_token, update, timeout))
        return future.result(timeout=timeout + 5)

    async def deliver_webhook_async(
        self, url: str, secret_token: str | None, update: Json, *, timeout: float = 30.0
    ) -> WebhookDelivery:
        future = self._submit(self._deliver(url, secret_token, update, timeout))
        return await asyncio.wrap_future(future)

    # --- the server --------------------------------------------------------------------

    def _serve(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._startup())
        except BaseException as error:  # hand it to start(), which re-raises it
            ready.set_exception(error)
            loop.close()
            return
        self._loop = loop
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _startup(self) -> None:
        self._updates_event = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a poller that hangs up (aiogram stopping) ends its long poll.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._client = aiohttp.ClientSession()

    async def _shutdown(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._loop is None:
            coro.close()
            raise RuntimeError("start the stand-in first")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _wake_pollers(self) -> None:
        """Wake every waiting getUpdates (thread-safe): new updates, a new poller, or closing."""
        loop = self._loop
        if loop is None:
            return
        if threading.current_thread() is not self._thread:
            try:
                loop.call_soon_threadsafe(self._wake_pollers)
            except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
                pass
            return
        if self._updates_event is not None:
            self._updates_event.set()
            self._updates_event = asyncio.Event()

    async def _handle_api(self, request: web.Request) -> web.Response:
        if not self._token_ok(request.match_info["token"]):
            return web.json_response(BotAPIError(401, "Unauthorized").payload(), status=401)
        name = self._method_names.get(request.match_info["method"].lower())
        if name is None:
            return web.json_response(BotAPIError(404, "Not Found").payload(), status=404)
        try:
            params = await _read_params(request)
        except BotAPIError as error:
            return web.json_response(error.payload(), status=error.status)
        call, body = await self._execute(name, params, token=request.match_info["token"])
        return web.json_response(body, status=call.status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if not self._token_ok(request.match_info["token"]):
            return web.json_response(BotAPIError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        with self._lock:
            content = next((data for p, data in self._files.values() if p == path), None)
        if content is None:
            return web.json_response(BotAPIError(404, "Not Found").payload(), status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    def _token_ok(self, token: str) -> bool:
        if self._token is not None:
            return secrets.compare_digest(token, self._token)
        return bool(TOKEN_SHAPE.match(token))

    async def _execute(
        self, name: str, params: Json, *, token: str, via: str = "http"
    ) -> tuple[Call, Json]:
        """Carry out one method call and record it; returns the record and the answer."""
        arrived = time.monotonic()
        try:
            if name == "getUpdates":
                self._take_scripted_failure(name)
                result: Any = await self._get_updates(params)
            else:
                result = self._execute_now(name, params, token, arrived)
        except BotAPIError as error:
            log.debug("%s answered %d", name, error.status)
            return self._record(Call(name, params, arrived, error.status, via)), error.payload()
        return self._record(Call(name, params, arrived, 200, via)), {"ok": True, "result": result}

    def _execute_now(self, name: str, params: Json, token: str, arrived: float) -> Any:
        # One lock for check, action and count, so two sends can't both take the last slot.
        with self._lock:
            self._take_scripted_failure(name)
            chat_id = params.get("chat_id")
            limits = self._limits if name in RATE_LIMITED else None
            if limits is not None:
                limits.check(chat_id, arrived)
            self._bot_token = token
            result = self._methods[name](params)
            if limits is not None:  # only what was accepted counts, as on Telegram
                limits.count(chat_id, arrived)
            return result

    def _take_scripted_failure(self, name: str) -> None:
        with self._lock:
            queue = self._failures.get(name.lower())
            if not queue:
                return
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
        if failure.status == 429:
            raise BotAPIError.too_many_requests(failure.retry_after or 1)
        reason = failure.description or ERROR_TEXT.get(failure.status, "Error")
        raise BotAPIError(failure.status, reason)

    def _record(self, call: Call) -> Call:
        with self._changed:
            self._calls.append(call)
            if call.status == 429:
                self._too_many_requests += 1
            self._changed.notify_all()
        return call

    # --- getUpdates --------------------------------------------------------------------

    async def _get_updates(self, params: Json) -> list[Json]:
        timeout = max(0, _int_param(params, "timeout", 0))
        limit = min(100, max(1, _int_param(params, "limit", 100)))
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._webhook is not None:
                raise BotAPIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._confirm(params.get("offset"))
            self._poll_generation += 1
            self._superseded_by = OTHER_POLL
            generation = self._poll_generation
        self._wake_pollers()  # an older poller still waiting now learns it was superseded
        while True:
            event = self._updates_event
            with self._lock:
                if generation != self._poll_generation:
                    raise BotAPIError(409, self._superseded_by)
                batch = list(itertools.islice(self._updates, limit))
            remaining = deadline - time.monotonic()
            if batch or self._closing or remaining <= 0 or event is None:
                return batch
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def _confirm(self, offset: Any) -> None:
        """Offset semantics: ids below ``offset`` are confirmed and forgotten for good;
        a negative offset keeps only the last ``-offset`` updates."""
        if not isinstance(offset, int):
            return
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    # --- methods (called with the lock held) ---------------------------------------------

    def _get_me(self, params: Json) -> Json:
        return {
            "id": int(self._bot_token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Tropa",
            "username": self._bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: Json) -> Json:
        chat_id = self._writable_chat(params)
        text = _text(params)
        message_id = self._next_message_id(chat_id)
        message: Json = {
            "message_id": message_id,
            "from": self._get_me(params),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        self._messages[(chat_id, message_id)] = message
        return message

    def _edit_message_text(self, params: Json) -> Json | bool:
        if "inline_message_id" in params:
            _text(params)
            return True
        chat_id = self._writable_chat(params)
        text = _text(params)
        message = self._messages.get((chat_id, _message_id(params)))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.get("from", {}).get("is_bot"):
            raise bad_request("message can't be edited")
        markup = params.get("reply_markup")
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if message.get("text") == text and message.get("reply_markup") == new_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        message = {**message, "text": text, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if new_markup is not None:
            message["reply_markup"] = new_markup
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _delete_message(self, params: Json) -> bool:
        chat_id = _chat_id(params)
        message_id = _message_id(params)
        if self._messages.pop((chat_id, message_id), None) is None:
            raise bad_request("message to delete not found")
        self._deleted.append((chat_id, message_id))
        return True

    def _delete_messages(self, params: Json) -> bool:
        chat_id = _chat_id(params)
        message_ids = params.get("message_ids")
        if not isinstance(message_ids, list) or not 1 <= len(message_ids) <= 100:
            raise bad_request("message identifiers are not specified")
        for message_id in message_ids:
            # the real API skips messages it cannot find, and still answers True
            if self._messages.pop((chat_id, message_id), None) is not None:
                self._deleted.append((chat_id, message_id))
        return True

    def _answer_callback_query(self, params: Json) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._callbacks.discard(query_id)
        return True

    def _get_file(self, params: Json) -> Json:
        file_id = params.get("file_id")
        stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise bad_request("invalid file_id")
        path, content = stored
        return {
            "file_id": file_id,
            "file_unique_id": f"AQAD{abs(hash(file_id)) % 10**12}",
            "file_size": len(content),
            "file_path": path,
        }

    def _set_webhook(self, params: Json) -> bool:
        url = params.get("url")
        if not url:  # setWebhook with an empty url is how the API spells "remove it"
            self._webhook = None
            return True
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_SHAPE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        # Unlike the real API, http:// and any port are accepted, so tests can use localhost.
        self._webhook = {
            "url": str(url),
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
        }
        # a waiting getUpdates now ends with 409, as on Telegram
        self._poll_generation += 1
        self._superseded_by = "Conflict: terminated by setWebhook request"
        self._wake_pollers()
        return True

    def _delete_webhook(self, params: Json) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: Json) -> Json:
        return {
            "url": "" if self._webhook is None else self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    # --- chats, users and messages (lock held) -----------------------------------------

    def _writable_chat(self, params: Json) -> ChatId:
        chat_id = _chat_id(params)
        if chat_id in self._blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _next_message_id(self, chat_id: ChatId) -> int:
        # One sequence per chat, shared by the applicant's and the bot's messages.
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _user(self, user_id: int, first_name: str = "Applicant") -> Json:
        return self._users.setdefault(
            user_id,
            {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"},
        )

    def _chat(self, chat_id: ChatId) -> Json:
        if isinstance(chat_id, int) and chat_id > 0:
            user = self._users.get(chat_id, {"first_name": "Applicant"})
            return {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Group"}

    def _user_message(self, chat_id: int, user_id: int | None, first_name: str) -> Json:
        with self._lock:
            user = self._user(user_id or chat_id, first_name)
            return {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": self._chat(chat_id),
                "date": int(time.time()),
            }

    def _number(self, update: Json) -> None:
        """Give the update the next id (or keep its own), and remember its messages."""
        if isinstance(update.get("update_id"), int):
            self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        else:
            update["update_id"] = self._next_update_id
            self._next_update_id += 1
        self._remember_update(update)

    def _remember_update(self, update: Json) -> None:
        """Keep pushed messages, so the bot can delete, edit or answer them later."""
        for key in ("message", "edited_message", "channel_post"):
            message = update.get(key)
            if isinstance(message, dict) and "chat" in message and "message_id" in message:
                chat_id, message_id = message["chat"]["id"], message["message_id"]
                self._messages[(chat_id, message_id)] = message
                last = self._last_message_id.get(chat_id, 0)
                self._last_message_id[chat_id] = max(last, message_id)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._callbacks.add(str(query["id"]))

    # --- webhook delivery (on the stand-in's loop) -------------------------------------

    async def _deliver(
        self, url: str, secret_token: str | None, update: Json, timeout: float
    ) -> WebhookDelivery:
        if self._client is None:
            raise RuntimeError("start the stand-in first")
        with self._lock:
            update = json.loads(json.dumps(update))
            self._number(update)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with self._client.post(
            url, json=update, headers=headers, timeout=client_timeout
        ) as response:
            reply_params = await _webhook_reply(response)
            body = "" if reply_params is not None else await response.text()
            status = response.status
        reply = None
        if reply_params is not None and status == 200:
            reply = await self._carry_out_reply(reply_params)
        return WebhookDelivery(status, body, reply)

    async def _carry_out_reply(self, params: Json) -> Call | None:
        name = self._method_names.get(str(params.pop("method", "")).lower())
        if name is None or name == "getUpdates":
            return None
        with self._lock:
            token = self._bot_token
        call, _ = await self._execute(name, _normalise(params), token=token, via="webhook-response")
        return call


def _true(params: Json) -> bool:
    return True


def _chat_id(params: Json) -> ChatId:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise bad_request("chat_id is empty")
    if not isinstance(chat_id, int):
        raise bad_request("chat not found")  # @usernames are not simulated
    return chat_id


def _int_param(params: Json, key: str, default: int) -> int:
    value = params.get(key, default)
    if not isinstance(value, int):
        raise bad_request(f"invalid {key} specified")
    return value


def _message_id(params: Json) -> int:
    message_id = params.get("message_id")
    if not isinstance(message_id, int):
        raise bad_request("message identifier is not specified")
    return message_id


def _text(params: Json) -> str:
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text


async def _read_params(request: web.Request) -> Json:
    """Query string and body, in any of the encodings the real API accepts."""
    params: Json = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise bad_request("can't parse JSON object") from error
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON object")
            params.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = Upload(value.filename, value.file.read())
                else:
                    params[key] = value
    return _normalise(params)


def _normalise(params: Json) -> Json:
    """Give string parameters (from forms) the types the API means."""
    normal: Json = {}
    for key, value in params.items():
        if isinstance(value, bytes | bytearray):
            value = value.decode()
        if isinstance(value, str):
            value = _from_string(key, value)
        normal[key] = value
    return normal


def _from_string(key: str, value: str) -> Any:
    if key in INT_PARAMS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if key in BOOL_PARAMS:
        return value.lower() in ("true", "1")
    if key in JSON_PARAMS:
        try:
            return json.loads(value)
        except ValueError as error:
            raise bad_request(f"can't parse {key} JSON object") from error
    return value


async def _webhook_reply(response: aiohttp.ClientResponse) -> Json | None:
    """The method a bot returned in its webhook answer, as JSON or as a multipart form."""
    if response.status != 200:
        return None
    if response.content_type == "application/json":
        body = await response.json()
        return body if isinstance(body, dict) and "method" in body else None
    if response.content_type != "multipart/form-data":
        return None
    params: Json = {}
    reader = aiohttp.MultipartReader(response.headers, response.content)
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        if part.filename:
            params[part.name] = Upload(part.filename, bytes(await part.read()))
        else:
            params[part.name] = await part.text()
    return params if "method" in params else None
