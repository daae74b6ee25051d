"""Jobs: fetch files applicants send in a chat, and destroy images on schedule
(the facts read from them stay with the case)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import translation
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tropa.cases.models import Case
from tropa.cases.notify import applicant_notify
from tropa.documents import services
from tropa.documents.models import DocumentKind

logger = logging.getLogger(__name__)


def on_applicant_file(case: Case, channel: str, file_ref: str) -> None:
    """Registered with `cases.notify`: fetch after the message is committed."""
    case_id = case.pk
    transaction.on_commit(lambda: document_fetch(case_id, channel, file_ref))


def _fetch(channel: str, file_ref: str) -> bytes:
    if channel == "telegram":
        from tropa.intake.channels.telegram.files import fetch_file

        return fetch_file(file_ref)
    raise ValueError(f"no file fetcher for channel {channel!r}")


@db_task(retries=3, retry_delay=60)
def document_fetch(case_id: int, channel: str, file_ref: str) -> bool:
    """Fetch, clean, encrypt; on a refusal the applicant is told why, in his language."""
    from tropa.intake.channels.telegram.files import FileTooLarge

    case = Case.objects.filter(pk=case_id).first()
    if case is None:  # shredded meanwhile
        return False
    try:
        data = _fetch(channel, file_ref)
        services.document_receive(case=case, data=data, kind=DocumentKind.OTHER, source=channel)
    except (services.Refused, FileTooLarge) as error:
        code = error.code if isinstance(error, services.Refused) else "too_large"
        logger.info("document refused code=%s", code)
        with translation.override(case.language or "ru"):
            applicant_notify(
                case, str(services.REFUSALS.get(code, services.REFUSALS["unsupported_type"]))
            )
        return False
    return True


@db_periodic_task(crontab(minute="17"))
def documents_retention_hourly() -> int:
    return services.documents_retention_run()
