"""The journey clock on Huey: a task at each check-in's alarm time, another at
its escalation time, and a sweep every minute for anything a lost task missed.

Huey keeps scheduled tasks in its storage (SQLite file or Redis), so they
survive a worker restart; the services' conditional updates make a second run
of the same task (or the sweep beside it) a no-op.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from tropa.journeys import services


@db_task()
def check_in_watch(check_in_id: int) -> bool:
    return services.check_in_alarm(check_in_id=check_in_id, now=timezone.now())


@db_task()
def check_in_escalation(check_in_id: int) -> bool:
    return services.check_in_escalate(check_in_id=check_in_id, now=timezone.now())


@db_periodic_task(crontab(minute="*"))
def check_ins_sweep_every_minute() -> tuple[int, int]:
    swept = services.check_ins_sweep(now=timezone.now())
    return swept.alarms, swept.escalations
