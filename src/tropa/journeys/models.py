"""A journey follows one route of a chosen plan; each leg ends with a check-in.

Only times and states are in clear (the scheduler needs them); where the
person goes is in the plan, under the case key.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class JourneyStatus(models.TextChoices):
    ACTIVE = "active", _("on the way")
    COMPLETED = "completed", _("arrived")
    ENDED = "ended", _("ended")


class Journey(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="journeys")
    plan = models.ForeignKey("routes.RoutePlan", on_delete=models.PROTECT, related_name="+")
    route_index = models.PositiveSmallIntegerField(default=0)  # 0 main, 1–2 backups
    status = models.CharField(
        max_length=16, choices=JourneyStatus.choices, default=JourneyStatus.ACTIVE
    )
    departed_at = models.DateTimeField()
    grace_minutes = models.PositiveIntegerField(default=60)
    created_by = models.ForeignKey(
        "accounts.Staff", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="active"),
                name="one_active_journey_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"journey {self.pk} of case {self.case_id}"


class CheckIn(models.Model):
    """'I reached stop `seq` of `total`' expected by `due_at`.

    missed_at: no check-in one grace period after due (alarm to the caseworker);
    escalated_at: still nothing after a second grace period (to coordinators).
    Each moves from NULL once, by a conditional UPDATE, so a task that runs
    twice (a restart, the sweep and the scheduled task together) fires once.
    """

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="check_ins")
    route_index = models.PositiveSmallIntegerField()
    seq = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    # due + one grace period, due + two: when the alarm and the escalation fire.
    alarm_at = models.DateTimeField()
    escalate_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    missed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["alarm_at"],
                condition=models.Q(done_at=None, superseded_at=None),
                name="check_in_open_by_alarm",
            )
        ]

    def __str__(self) -> str:
        return f"check-in {self.seq}/{self.total} of journey {self.journey_id}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.superseded_at is None

    @property
    def alarm(self) -> bool:
        return self.is_open and self.missed_at is not None and self.acknowledged_at is None
