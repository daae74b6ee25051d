"""Route knowledge (encrypted, versioned) and the plans made from it for cases.

The knowledge itself is sensitive (which crossings work, which safe flats
exist): each version is YAML under the route book's key, which only the
coordinators' and the evacuation team's keys (and the recovery key) open.
A plan for a case lives under that case's key.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tropa.vault.fields import EncryptedJSONField, EncryptedTextField, Keyring, OwnKey


class RouteBook(models.Model):
    """The one key that protects every knowledge version, wrapped for its readers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key_for_coordinators = models.BinaryField()
    key_for_evacuation = models.BinaryField()
    key_for_recovery = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "route book"

    def book_context(self) -> bytes:
        return f"tropa.route-book:{self.uid}".encode()


class KnowledgeVersion(OwnKey, models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.Staff", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Counts only: they tell nothing about where the routes go.
    places = models.PositiveIntegerField(default=0)
    legs = models.PositiveIntegerField(default=0)
    body = EncryptedTextField()  # the YAML document

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"route knowledge {self.pk}"


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    CHOSEN = "chosen", _("chosen")
    SUPERSEDED = "superseded", _("superseded")


class RoutePlan(models.Model):
    """A planner run for a case: the routes as they were computed, under the case key."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="route_plans")
    knowledge = models.ForeignKey(
        KnowledgeVersion, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.Staff", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    body = EncryptedJSONField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"route plan {self.pk} of case {self.case_id}"

    def vault_keyring(self) -> Keyring:
        return self.case.vault_keyring()
