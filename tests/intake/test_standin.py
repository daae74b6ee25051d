"""The Telegram stand-in speaks the Bot API well enough for aiogram 3, and can be scripted."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tropa.intake.channels.telegram.standin import StandIn

TOKEN = "123456:TEST-token_for-the-stand-in"


@pytest.fixture
def telegram() -> Iterator[StandIn]:
    with StandIn(token=TOKEN) as standin:
        yield standin


def bot_for(standin: StandIn) -> Bot:
    return Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(standin.url)))


def with_bot(standin: StandIn, scenario: Callable[[Bot], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with bot_for(standin) as bot:
            return await scenario(bot)

    return asyncio.run(run())


async def raw(
    standin: StandIn, method: str, *, token: str = TOKEN, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """A bare HTTP call, for what aiogram would hide: the JSON shape, the encodings."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{standin.url}/bot{token}/{method}", **kwargs) as response:
            return response.status, await response.json()


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
    )


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# --- aiogram against the stand-in -------------------------------------------------------


def test_aiogram_get_me_send_edit_delete(telegram: StandIn) -> None:
    async def scenario(bot: Bot) -> None:
        me = await bot.get_me()
        assert (me.id, me.is_bot, me.username) == (123456, True, "tropa_test_bot")
        first = await bot.send_message(42, "Hello", reply_markup=keyboard())
        second = await bot.send_message(42, "Second")
        assert (first.message_id, second.message_id) == (1, 2)
        assert first.chat.id == 42 and first.from_user is not None
        assert first.from_user.id == 123456
        assert abs(first.date.timestamp() - time.time()) < 5
        assert first.reply_markup is not None
        assert first.reply_markup.inline_keyboard[0][0].callback_data == "yes"
        edited = await bot.edit_message_text("Hello again", chat_id=42, message_id=1)
        assert isinstance(edited, Message) and edited.edit_date is not None
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("Hello again", chat_id=42, message_id=1)
        assert await bot.delete_message(42, first.message_id)
        with pytest.raises(TelegramBadRequest, match="message to delete not found"):
            await bot.delete_message(42, first.message_id)
        assert await bot.delete_messages(42, [second.message_id, 99])

    with_bot(telegram, scenario)
    send = next(c for c in telegram.sent if c.method == "sendMessage")
    assert send.params["chat_id"] == 42 and send.params["text"] == "Hello"
    assert send.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]
    }
    assert telegram.deleted == [(42, 1), (42, 2)]
    assert telegram.texts(42) == ["Hello", "Second"]
    assert [c.method for c in telegram.sent] == [
        "getMe",
        "sendMessage",
        "sendMessage",
        "editMessageText",
        "deleteMessage",
        "deleteMessages",
    ]


def test_message_ids_are_per_chat_and_shared_with_the_applicant(telegram: StandIn) -> None:
    telegram.push_text(7, "hi")

    async def scenario(bot: Bot) -> list[int]:
        return [(await bot.send_message(chat, "x")).message_id for chat in (7, 8, 7)]

    assert with_bot(telegram, scenario) == [2, 1, 3]


def test_polling_dispatcher_replies_to_text_photo_and_button_then_stops(
    telegram: StandIn,
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo is not None
        downloaded = await bot.download(message.photo[-1])
        assert downloaded is not None
        await message.answer(f"photo of {len(downloaded.getvalue())} bytes: {message.caption}")

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=keyboard())

    @dispatcher.callback_query(F.data == "yes")
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("Noted")
        assert isinstance(query.message, Message)
        await query.message.edit_text("You chose yes")

    async def scenario(bot: Bot) -> None:
        telegram.push_text(7, "before polling")
        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        await telegram.wait_sent_async("sendMessage", 1)
        telegram.push_photo(8, b"\xff\xd8 jpeg bytes", caption="my call-up")
        telegram.push_callback(7, "yes", message_id=2)  # the echo: id 1 was the applicant's
        await telegram.wait_sent_async("editMessageText", 1)
        await telegram.wait_sent_async("sendMessage", 2)
        # aiogram confirms an update only with its next getUpdates; wait for that one.
        await wait_until(lambda: telegram.pending_updates == 0)
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)  # raises if polling ended with an error

    started = time.monotonic()
    with_bot(telegram, scenario)
    assert time.monotonic() - started < 5  # the 10 s long poll was cut short, not waited out
    assert telegram.texts(7) == ["echo: before polling"]
    assert telegram.texts(8) == ["photo of 13 bytes: my call-up"]
    methods = [c.method for c in telegram.sent]
    assert {"getFile", "answerCallbackQuery", "editMessageText"} <= set(methods)
    edit = next(c for c in telegram.sent if c.method == "editMessageText")
    assert (edit.params["chat_id"], edit.params["message_id"]) == (7, 2)
    polls = [c for c in telegram.calls if c.method == "getUpdates"]
    assert polls[0].params["timeout"] == 10 and "offset" not in polls[0].params
    assert json.loads(json.dumps(polls[0].params))  # what aiogram sends is plain JSON-able


def test_file_download_with_aiogram(telegram: StandIn) -> None:
    update = telegram.push_document(5, b"%PDF-1.4 call-up", "notice.pdf")
    file_id = update["message"]["document"]["file_id"]

    async def scenario(bot: Bot) -> bytes:
        file = await bot.get_file(file_id)
        assert file.file_path == "documents/file_0.pdf" and file.file_size == 16
        downloaded = await bot.download_file(file.file_path)
        assert downloaded is not None
        with pytest.raises(TelegramBadRequest, match="invalid file_id"):
            await bot.get_file("nonsense")
        return downloaded.getvalue()

    assert with_bot(telegram, scenario) == b"%PDF-1.4 call-up"


# --- scripted failures and limits --------------------------------------------------------


def test_scripted_429_reaches_aiogram_as_retry_after(telegram: StandIn) -> None:
    telegram.fail_next("sendMessage", status=429, retry_after=3)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(TelegramRetryAfter) as refused:
            await bot.send_message(1, "first try")
        assert refused.value.retry_after == 3
        await bot.send_message(1, "second try")

    with_bot(telegram, scenario)
    assert telegram.too_many_requests == 1
    assert [(c.method, c.status) for c in telegram.calls] == [
        ("sendMessage", 429),
        ("sendMessage", 200),
    ]
    assert telegram.texts() == ["second try"]


def test_scripted_429_has_telegrams_shape(telegram: StandIn) -> None:
    telegram.fail_next("sendmessage", retry_after=7)  # method names are case-insensitive
    status, body = asyncio.run(raw(telegram, "sendMessage", json={"chat_id": 1, "text": "x"}))
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }


def test_scripted_502_twice_then_success(telegram: StandIn) -> None:
    telegram.fail_next("sendMessage", status=502, times=2)

    async def scenario(bot: Bot) -> None:
        for _ in range(2):
            with pytest.raises(TelegramServerError, match="Bad Gateway"):
                await bot.send_message(1, "x")
        await bot.send_message(1, "x")

    with_bot(telegram, scenario)
    assert [c.status for c in telegram.calls] == [502, 502, 200]
    assert telegram.too_many_requests == 0


def test_enforced_per_chat_limit(telegram: StandIn) -> None:
    telegram.enforce_limits(global_per_second=30, per_chat_per_second=1)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(1, "one")
        with pytest.raises(TelegramRetryAfter) as refused:
            await bot.send_message(1, "two")
        assert refused.value.retry_after == 1
        await bot.send_message(2, "another chat is fine")
        await bot.delete_message(1, 1)  # deletes are not limited

    with_bot(telegram, scenario)
    assert telegram.too_many_requests == 1


def test_enforced_global_limit_and_its_sliding_window(telegram: StandIn) -> None:
    # allowance=0.8 shortens the window to 0.2 s, so the test can watch it slide.
    telegram.enforce_limits(global_per_second=30, per_chat_per_second=1, allowance=0.8)

    async def scenario(bot: Bot) -> None:
        for chat in range(30):
            await bot.send_message(chat, "x")
        for chat in (100, 101):
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(chat, "x")
        await asyncio.sleep(0.25)
        await bot.send_message(100, "x")

    with_bot(telegram, scenario)
    assert telegram.too_many_requests == 2
    assert len(telegram.texts()) == 31


def test_refused_sends_do_not_count_against_the_limit(telegram: StandIn) -> None:
    telegram.enforce_limits(global_per_second=1, per_chat_per_second=1)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(TelegramBadRequest, match="text is empty"):
            await bot.send_message(1, " ")
        await bot.send_message(1, "accepted")

    with_bot(telegram, scenario)
    assert telegram.too_many_requests == 0


def test_blocked_applicant(telegram: StandIn) -> None:
    telegram.block(9)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
            await bot.send_message(9, "x")

    with_bot(telegram, scenario)


# --- the HTTP surface ----------------------------------------------------------------------


def test_json_form_multipart_and_query_bodies_mean_the_same(telegram: StandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    form = {"chat_id": "5", "text": "hi", "reply_markup": json.dumps(markup)}

    async def scenario() -> None:
        await raw(
            telegram, "sendMessage", json={"chat_id": 5, "text": "hi", "reply_markup": markup}
        )
        await raw(telegram, "sendMessage", data=form)
        multipart = aiohttp.FormData(form)
        multipart.add_field("unused_file", b"bytes", filename="f.bin")
        await raw(telegram, "sendMessage", data=multipart)
        async with aiohttp.ClientSession() as session:
            url = f"{telegram.url}/bot{TOKEN}/SENDMESSAGE"
            async with session.get(url, params=form) as response:
                assert response.status == 200

    asyncio.run(scenario())
    sends = telegram.sent
    assert len(sends) == 4
    for call in sends:
        assert call.method == "sendMessage"
        assert (call.params["chat_id"], call.params["text"]) == (5, "hi")
        assert call.params["reply_markup"] == markup


def test_errors_for_tokens_methods_and_bodies(telegram: StandIn) -> None:
    async def scenario() -> list[tuple[int, dict[str, Any]]]:
        return [
            await raw(telegram, "getMe", token="654321:other"),
            await raw(telegram, "noSuchMethod"),
            await raw(telegram, "sendMessage", data="{not json", headers=_json_header),
            await raw(telegram, "sendMessage", json={"text": "no chat"}),
            await raw(telegram, "sendMessage", json={"chat_id": 1, "text": "x" * 4097}),
        ]

    answers = asyncio.run(scenario())
    assert [status for status, _ in answers] == [401, 404, 400, 400, 400]
    assert answers[0][1] == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert answers[3][1]["description"] == "Bad Request: chat_id is empty"
    assert answers[4][1]["description"] == "Bad Request: message is too long"


_json_header = {"Content-Type": "application/json"}


def test_get_updates_offset_limit_and_confirmation(telegram: StandIn) -> None:
    ids = [telegram.push_text(1, f"m{i}")["update_id"] for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5

    async def scenario() -> None:
        _, body = await raw(telegram, "getUpdates", json={"limit": 2})
        assert [u["update_id"] for u in body["result"]] == ids[:2]
        _, body = await raw(telegram, "getUpdates", json={"offset": ids[3]})
        assert [u["update_id"] for u in body["result"]] == ids[3:]
        assert telegram.pending_updates == 2  # ids below the offset are gone for good
        _, body = await raw(telegram, "getUpdates", data={"offset": "-1"})
        assert [u["update_id"] for u in body["result"]] == ids[4:]
        _, body = await raw(telegram, "getUpdates", json={"offset": ids[4] + 1, "timeout": 0})
        assert body == {"ok": True, "result": []}

    asyncio.run(scenario())
    assert telegram.pending_updates == 0


def test_long_poll_waits_and_wakes_on_a_push_from_another_thread(telegram: StandIn) -> None:
    async def scenario() -> None:
        started = time.monotonic()
        _, body = await raw(telegram, "getUpdates", json={"timeout": 1})
        assert body["result"] == [] and 0.9 <= time.monotonic() - started < 2
        threading.Timer(0.2, telegram.push_text, args=(3, "late")).start()
        started = time.monotonic()
        _, body = await raw(telegram, "getUpdates", json={"timeout": 20})
        assert [u["message"]["text"] for u in body["result"]] == ["late"]
        assert time.monotonic() - started < 1

    asyncio.run(scenario())


def test_a_second_poller_or_a_webhook_ends_a_waiting_poll_with_409(telegram: StandIn) -> None:
    async def scenario() -> None:
        first = asyncio.create_task(raw(telegram, "getUpdates", json={"timeout": 20}))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(raw(telegram, "getUpdates", json={"timeout": 0}))
        status, body = await asyncio.wait_for(first, 2)
        assert status == 409 and "terminated by other getUpdates" in body["description"]
        assert (await second)[0] == 200
        waiting = asyncio.create_task(raw(telegram, "getUpdates", json={"timeout": 20}))
        await asyncio.sleep(0.1)
        await raw(telegram, "setWebhook", json={"url": "http://127.0.0.1:9/hook"})
        status, body = await asyncio.wait_for(waiting, 2)
        assert (status, body["description"]) == (409, "Conflict: terminated by setWebhook request")

    asyncio.run(scenario())


def test_stop_cuts_open_long_polls_short() -> None:
    standin = StandIn().start()
    poll = threading.Thread(
        target=lambda: asyncio.run(raw(standin, "getUpdates", json={"timeout": 30}))
    )
    poll.start()
    time.sleep(0.2)
    started = time.monotonic()
    standin.stop()
    poll.join(5)
    assert not poll.is_alive() and time.monotonic() - started < 3


def test_any_well_formed_token_without_a_fixed_one() -> None:
    with StandIn() as standin:
        status, body = asyncio.run(raw(standin, "getMe", token="777:abc"))
        assert status == 200 and body["result"]["id"] == 777
        assert asyncio.run(raw(standin, "getMe", token="not-a-token"))[0] == 401


# --- webhooks -------------------------------------------------------------------------------


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def test_webhook_with_secret_and_a_reply_in_the_response(telegram: StandIn) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def reply(message: Message) -> SendMessage:
        return message.answer(f"webhook echo: {message.text}")  # answered in the response

    async def scenario(bot: Bot) -> None:
        app = web.Application()
        handler = SimpleRequestHandler(
            dispatcher, bot, secret_token="s3cret", handle_in_background=False
        )
        handler.register(app, path="/hook")
        runner, url = await serve(app)
        try:
            await bot.set_webhook(url, secret_token="s3cret")
            assert telegram.webhook == {
                "url": url,
                "secret_token": "s3cret",
                "allowed_updates": None,
            }
            with pytest.raises(TelegramConflictError, match="webhook is active"):
                await bot.get_updates()
            refused = await telegram.deliver_webhook_async(
                url, "wrong", telegram.text_update(7, "hi")
            )
            assert (refused.status, refused.body, refused.reply) == (401, "Unauthorized", None)
            delivery = await telegram.deliver_webhook_async(
                url, "s3cret", telegram.text_update(7, "hello")
            )
            assert delivery.status == 200 and delivery.reply is not None
            assert delivery.reply.via == "webhook-response"
            assert delivery.reply.method == "sendMessage"
            assert delivery.reply.params["chat_id"] == 7
            await bot.delete_webhook()
            assert telegram.webhook is None
        finally:
            await runner.cleanup()

    with_bot(telegram, scenario)
    assert telegram.texts(7) == ["webhook echo: hello"]


def test_sync_webhook_delivery_with_a_json_reply(telegram: StandIn) -> None:
    # Like a Django view answering a button press in the webhook response.
    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "s"
        query_id = update["callback_query"]["id"]
        return web.json_response({"method": "answerCallbackQuery", "callback_query_id": query_id})

    async def scenario() -> None:
        app = web.Application()
        app.router.add_post("/hook", hook)
        runner, url = await serve(app)
        try:
            update = telegram.callback_update(4, "choice", message_id=1)
            delivery = await asyncio.to_thread(telegram.deliver_webhook, url, "s", update)
            assert delivery.status == 200 and delivery.reply is not None
            assert (delivery.reply.method, delivery.reply.status) == ("answerCallbackQuery", 200)
        finally:
            await runner.cleanup()

    asyncio.run(scenario())


# --- privacy --------------------------------------------------------------------------------


def test_logs_carry_no_text_chat_ids_or_token(
    telegram: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail_next("sendMessage", status=502)
    with caplog.at_level(logging.DEBUG):

        async def scenario(bot: Bot) -> None:
            with pytest.raises(TelegramServerError):
                await bot.send_message(987654321, "my secret draft notice")
            await bot.send_message(987654321, "my secret draft notice")

        with_bot(telegram, scenario)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sendMessage answered 502" in logged
    for secret in ("987654321", "secret draft", TOKEN, "123456"):
        assert secret not in logged
