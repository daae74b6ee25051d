"""Volunteer profiles: what matching needs in clear, who the person is under keys.

In clear (needed by the matcher and the workload view, names nobody): alias
(on `Staff`), teams, languages, coarse regions, capacity, time zone, away
periods, vetting status. Encrypted under a profile key that only the volunteer,
the coordinators' team key and the offline recovery key open: name, contact,
vetting notes. A seized server cannot out the volunteers.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tropa.vault.fields import EncryptedJSONField, OwnKey


class VettingStatus(models.TextChoices):
    INVITED = "invited", _("invited")
    VETTED = "vetted", _("vetted")
    ACTIVE = "active", _("active")
    PAUSED = "paused", _("paused")
    REVOKED = "revoked", _("revoked")


class VolunteerProfile(OwnKey, models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    staff = models.OneToOneField("accounts.Staff", on_delete=models.CASCADE, related_name="profile")
    status = models.CharField(
        max_length=16, choices=VettingStatus.choices, default=VettingStatus.INVITED
    )
    languages = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(default=3)
    time_zone = models.CharField(max_length=64, default="UTC")
    vetted_at = models.DateTimeField(null=True, blank=True)
    vetted_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The profile key, wrapped for each reader (crypto.wrap_key).
    key_for_self = models.BinaryField()
    key_for_coordinators = models.BinaryField()
    key_for_recovery = models.BinaryField(null=True, blank=True)
    personal = EncryptedJSONField()

    class Meta:
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"profile of staff {self.staff_id}"

    def profile_context(self) -> bytes:
        return f"tropa.volunteer-profile:{self.uid}".encode()

    @property
    def takes_cases(self) -> bool:
        return self.status == VettingStatus.ACTIVE


class AwayPeriod(models.Model):
    """Dates (inclusive) when the volunteer takes no new cases."""

    profile = models.ForeignKey(VolunteerProfile, on_delete=models.CASCADE, related_name="away")
    starts_on = models.DateField()
    ends_on = models.DateField()

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="away_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_on}–{self.ends_on}"


class Invite(models.Model):
    """A single-use link: only a SHA-256 digest of its token is stored."""

    token_digest = models.CharField(max_length=64, unique=True)
    alias = models.CharField(max_length=64)
    teams = models.JSONField(default=list)
    created_by = models.ForeignKey(
        "accounts.Staff", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    staff = models.OneToOneField(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="invite"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invite for {self.alias}"
