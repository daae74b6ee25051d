"""Journey accompaniment: check-ins along the chosen route, alarms, escalation (M9)."""
