"""What Django and gunicorn log about a request names no path, address or request line
(S8; tests/security/test_quiet_logs.py proves it across every real process)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.test import Client

from tropa.core.quietlog import GunicornLogger, RequestDetailsFilter

NAME = "Канарейкин"
PASSPORT = "4509771234"


@contextmanager
def _captured(logger: logging.Logger, *filters: logging.Filter) -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    for item in filters:
        handler.addFilter(item)
    logger.addHandler(handler)
    try:
        yield out
    finally:
        logger.removeHandler(handler)


def test_the_console_handler_carries_the_filter() -> None:
    consoles = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert consoles and all(
        any(isinstance(f, RequestDetailsFilter) for f in h.filters) for h in consoles
    )


@pytest.mark.django_db
def test_a_404_is_logged_without_the_path_typed() -> None:
    with _captured(logging.getLogger("django.request"), RequestDetailsFilter()) as out:
        response = Client().get(f"/chat/{NAME}/{PASSPORT}/?phone=79165550199")
    assert response.status_code == 404
    logged = out.getvalue()
    assert "Not Found: [unmatched path]" in logged
    assert PASSPORT not in logged and "u041a" not in logged and NAME not in logged


@pytest.mark.django_db
def test_a_refused_form_is_logged_with_its_route() -> None:
    with _captured(logging.getLogger("django.security.csrf"), RequestDetailsFilter()) as out:
        response = Client(enforce_csrf_checks=True).post("/chat/", {"text": NAME})
    assert response.status_code == 403
    assert "Forbidden (CSRF cookie not set.): /chat/" in out.getvalue()


def test_a_suspicious_operation_keeps_only_its_class() -> None:
    record = logging.LogRecord(
        "django.security.SuspiciousFileOperation",
        logging.ERROR,
        __file__,
        1,
        f"Detected path traversal attempt in '/{NAME}/{PASSPORT}'",
        (),
        None,
    )
    RequestDetailsFilter().filter(record)
    assert record.getMessage() == "SuspiciousFileOperation refused"


def _gunicorn_logger() -> GunicornLogger:
    from gunicorn.config import Config

    config = Config()
    config.set("loglevel", "debug")
    return GunicornLogger(config)


@pytest.mark.parametrize(
    ("message", "args", "shown"),
    [
        (
            f"Invalid request from ip=203.0.113.77: Invalid Request Line 'GET /?n={NAME}'",
            (),
            "Invalid request refused: Invalid Request Line",
        ),
        (
            f"Invalid request from ip=203.0.113.77: Invalid HTTP header name: 'X-{PASSPORT}'",
            (),
            "Invalid request refused: Invalid HTTP header name",
        ),
        ("Error handling request %s %s", ("GET", f"/chat/?p={PASSPORT}"), "Error handling request"),
        ("%s %s", ("POST", f"/chat/{NAME}/"), "POST [withheld]"),
    ],
)
def test_gunicorn_says_what_it_refused_and_nothing_else(
    message: str, args: tuple[str, ...], shown: str
) -> None:
    log = _gunicorn_logger()
    with _captured(log.error_log) as out:
        log.warning(message, *args)
    logged = out.getvalue()
    assert logged.strip() == shown
    assert "203.0.113.77" not in logged and PASSPORT not in logged and NAME not in logged
