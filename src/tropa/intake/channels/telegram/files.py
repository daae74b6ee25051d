"""Fetch a file an applicant sent to the bot: getFile, then the download, in memory.

Bots may download files up to 20 MB; anything larger (or larger than our own
upload limit) is refused from getFile's declared size, before any byte is
fetched. Nothing is written to disk.
"""

from __future__ import annotations

import asyncio

from django.conf import settings

from tropa.intake.channels.telegram.bot import bot_create


class FileTooLarge(Exception):
    pass


async def _fetch(file_id: str, limit: int) -> bytes:
    bot = bot_create()
    try:
        file = await bot.get_file(file_id)
        if file.file_size is not None and file.file_size > limit:
            raise FileTooLarge(file.file_size)
        if not file.file_path:
            raise FileNotFoundError("Telegram gave no path for the file")
        buffer = await bot.download_file(file.file_path)
        data = buffer.getvalue() if buffer is not None else b""
        if len(data) > limit:
            raise FileTooLarge(len(data))
        return data
    finally:
        await bot.session.close()


def fetch_file(file_id: str) -> bytes:
    """The file's bytes (sync, for a job); FileTooLarge over the upload limit."""
    return asyncio.run(_fetch(file_id, settings.UPLOAD_MAX_BYTES))
