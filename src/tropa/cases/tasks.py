"""Scheduled jobs (Huey): retention runs every hour."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tropa.cases.services import retention_run
from tropa.intake.services import conversations_expire


@db_periodic_task(crontab(minute="7"))
def retention_hourly() -> int:
    conversations_expire()
    return retention_run()
