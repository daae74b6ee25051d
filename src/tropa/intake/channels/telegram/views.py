"""Webhook mode: Telegram posts each update here with our secret token."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tropa.intake.channels.telegram import services

logger = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


@csrf_exempt  # authenticated by Telegram's secret-token header instead
@require_POST
def webhook_view(request: HttpRequest) -> HttpResponse:
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return HttpResponse(status=403)
    if len(request.body) > MAX_BODY:
        return HttpResponse(status=200)  # acknowledged, not processed
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON, or nested past Python's stack (S10)
        return HttpResponse(status=200)
    parsed = services.parse_update(data)
    if parsed is None:
        return HttpResponse(status=200)  # a shape we do not handle: do not make Telegram retry
    services.update_handle(parsed)
    if parsed.callback_id:
        # Answer the button press in the webhook response itself: no extra request.
        return JsonResponse(
            {"method": "answerCallbackQuery", "callback_query_id": parsed.callback_id}
        )
    return HttpResponse(status=200)
