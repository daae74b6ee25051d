"""Quiet logs (S8): what Django and gunicorn would write about a request, without the
parts an applicant or an attacker controls.

Django logs every 4xx/5xx with the request path ("Not Found: /chat/<anything>/"), and
gunicorn logs every malformed request with the client's address and the offending bytes
("Invalid request from ip=…: Invalid Request Line 'GET /?name=…'"), and at DEBUG each
request's path. A path or a request line is whatever the sender typed, names and
numbers included, and an address says who was talking to a helpline. So paths become
the route they matched (``/cases/<int:pk>/``, never the id), or ``[unmatched path]``;
gunicorn's refusals keep only what kind of refusal it was; security exceptions keep
only their class. Tracebacks of our own errors stay: they are code, and our code logs
only ids and event names.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger as GunicornBaseLogger

UNMATCHED = "[unmatched path]"
WITHHELD = "[withheld]"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def _route(request: Any) -> str:
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None and match.route else UNMATCHED


class RequestDetailsFilter(logging.Filter):
    """On Django's request and security records: the route instead of the path."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and isinstance(record.args, tuple):
            path = str(getattr(request, "path", ""))
            typed = {path, path.encode("unicode_escape").decode("ascii")}
            record.args = tuple(
                _route(request) if isinstance(arg, str) and arg in typed else arg
                for arg in record.args
            )
        if record.name.startswith("django.security.") and record.name != "django.security.csrf":
            # The message is str(exception): it may quote a header or a file name.
            record.msg, record.args = "%s refused", (record.name.rsplit(".", 1)[-1],)
        return True


class GunicornDetailsFilter(logging.Filter):
    """On gunicorn's error log: no client address, no request line, no path."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Invalid request from ip="):
            # "Invalid request from ip=A: <kind>: '<bytes>'" keeps only <kind>.
            reason = message.split(": ", 1)[1] if ": " in message else ""
            kind = reason.split(":", 1)[0].split("'", 1)[0].strip() or "malformed"
            record.msg, record.args = "Invalid request refused: %s", (kind,)
        elif message.startswith("Error handling request"):
            record.msg, record.args = "Error handling request", ()
        elif (
            message == "%s %s"
            and isinstance(record.args, tuple)
            and len(record.args) == 2
            and record.args[0] in HTTP_METHODS
        ):
            record.args = (record.args[0], WITHHELD)  # the pre_request hook, at DEBUG
        return True


_GUNICORN_FILTER = GunicornDetailsFilter()


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger with `GunicornDetailsFilter` on its error log (`--logger-class`)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.addFilter(_GUNICORN_FILTER)  # once: addFilter ignores a repeat
