"""`/chat/`: the intake flow over plain HTML forms. Works with JavaScript off
(Tor Browser's safest level), loads nothing from elsewhere, sets only the
session cookie (and the CSRF cookie its forms need)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tropa.core.middleware import session_saved_when_changed
from tropa.intake import flows
from tropa.intake.channels.web import services

# A hard cap on what is accepted at all; the flow itself answers anything over
# its own limit (4,000 characters) with a translated explanation.
MAX_TEXT = 10_000
SESSION_ISSUED = "tropa.webchat.issued"


@session_saved_when_changed
@require_http_methods(["GET", "POST"])
def chat_view(request: HttpRequest) -> HttpResponse:
    chat_id = request.session.get(services.SESSION_CHAT)
    error = ""
    if request.method == "POST":
        error = _post(request, chat_id)
        if not error:
            return redirect("webchat:chat")
        chat_id = request.session.get(services.SESSION_CHAT)
    transcript, buttons, conversation = (
        services.page_state(chat_id=chat_id) if chat_id else ([], [], None)
    )
    issued = request.session.pop(SESSION_ISSUED, None)
    error = error or request.session.pop(services.SESSION_NOTICE, "")
    context = {
        "transcript": transcript,
        "buttons": buttons,
        "started": conversation is not None,
        # Documents can be sent once the request is registered (sealed to its case).
        "can_upload": conversation is not None and conversation.case_id is not None,
        "error": error,
        "issued": issued,
        "max_text": MAX_TEXT,
    }
    return render(request, "webchat/chat.html", context, status=400 if error else 200)


def _post(request: HttpRequest, chat_id: str | None) -> str:
    if not services.session_rate_ok(request.session):
        return _("Too many messages at once. Wait a minute, then write again.")
    text = request.POST.get("text", "")
    choice = request.POST.get("choice") or None
    if len(text) > MAX_TEXT:
        return _("The message is too long (at most %(max)s characters). Split it in parts.") % {
            "max": MAX_TEXT
        }
    if choice:
        inbound = flows.Inbound(kind="choice", choice=choice[:200])
    elif text.strip():
        inbound = flows.Inbound(kind="text", text=text)
    elif "start" in request.POST:
        inbound = flows.Inbound(kind="start")
    else:
        return _("Write a message or choose an answer.")
    if chat_id is None:
        # A new chat (or one that the panic word ended): a fresh, random id.
        chat_id = services.chat_id_new()
        request.session.cycle_key()
        request.session[services.SESSION_CHAT] = chat_id
    received = services.receive(chat_id=chat_id, inbound=inbound)
    if received.wiped:
        request.session.flush()
    elif received.completed:
        request.session[SESSION_ISSUED] = {
            "codename": received.conversation.case.codename,
            "passphrase": services.passphrase_issue(received.conversation),
        }
    return ""


@require_http_methods(["GET", "POST"])
def return_view(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        conversation = services.conversation_return(
            codename=request.POST.get("codename", "")[:64],
            passphrase=request.POST.get("passphrase", "")[:200],
        )
        if conversation is not None:
            request.session.cycle_key()
            request.session[services.SESSION_CHAT] = conversation.address
            return redirect("webchat:chat")
        error = _("This codename and passphrase do not match. Check them and try again.")
    return render(request, "webchat/return.html", {"error": error}, status=400 if error else 200)


@require_http_methods(["POST"])
def leave_view(request: HttpRequest) -> HttpResponse:
    """Leave without a trace in this browser: the session ends, the page is blank."""
    request.session.flush()
    return redirect("webchat:chat")
