"""`tropa worker`: the job worker (Huey) for retention, check-in alarms and the
minute-by-minute sweep. Same options as Huey's `run_huey`; scheduled tasks
live in Huey's storage (SQLite file or Redis), so a restart loses none."""

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey


class Command(RunHuey):
    help = "Run the job worker (retention, journey check-in alarms)."
