from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """Every kind of event the audit log may hold. Adding one is a code change, on purpose."""

    LOGIN = "auth.login", _("logged in")
    LOGIN_FAILED = "auth.login_failed", _("wrong password")
    LOGIN_THROTTLED = "auth.login_throttled", _("login refused: too many attempts")
    OTP_FAILED = "auth.otp_failed", _("wrong or reused one-time code")
    OTP_ENROLLED = "auth.otp_enrolled", _("enrolled an authenticator")
    LOGIN_REVOKED_ACCOUNT = "auth.revoked_account", _("login refused: account revoked")
    LOGOUT = "auth.logout", _("logged out")
    STAFF_CREATED = "staff.created", _("staff account created")
    STAFF_REVOKED = "staff.revoked", _("staff account revoked")
    STAFF_TEAM_ADDED = "staff.team_added", _("added to a team")
    STAFF_TEAM_REMOVED = "staff.team_removed", _("removed from a team")
    SESSION_REFUSED = "security.session_refused", _("unknown, expired or revoked session")
    CSRF_REFUSED = "security.csrf_refused", _("form refused: missing or bad CSRF token")
    CASE_OPENED = "case.opened", _("case file opened")
    CASE_ASSIGNED = "case.assigned", _("case assigned")
    CASE_UNASSIGNED = "case.unassigned", _("case unassigned")
    CASE_CLOSED = "case.closed", _("case closed")
    CASE_STATUS = "case.status", _("case status changed")
    CASE_SERVICE = "case.service", _("case service changed")
    CASE_VERIFIED = "case.verified", _("case verified")
    CASE_REJECTED = "case.rejected", _("verification refused")
    CASE_FLAGGED = "case.flagged", _("case flagged as possibly compromised")
    CASE_REPLIED = "case.replied", _("reply sent to the applicant")
    CASE_SHREDDED = "case.shredded", _("case destroyed (crypto-shredding)")
    CASE_RECOVERED = "case.recovered", _("case access restored with the recovery key")
    KEYS_INITIALISED = "keys.initialised", _("organisation recovery key created")
    FIELD_KEY_ROTATED = "keys.field_key_rotated", _("field encryption key rotated")
    TEAM_KEY_ROTATED = "keys.team_key_rotated", _("team key rotated")
    VOLUNTEER_INVITED = "volunteer.invited", _("volunteer invited")
    VOLUNTEER_JOINED = "volunteer.joined", _("volunteer accepted an invitation")
    VOLUNTEER_STATUS = "volunteer.status", _("volunteer status changed")
    VOLUNTEER_PROFILE_OPENED = "volunteer.profile_opened", _("volunteer's personal details read")
    MATCH_PROPOSED = "match.proposed", _("assignment proposal computed")
    MATCH_ACCEPTED = "match.accepted", _("assignment proposal accepted")
    ROUTES_EDITED = "routes.edited", _("route knowledge changed")
    ROUTE_PLANNED = "routes.planned", _("route planned for a case")
    JOURNEY_STARTED = "journey.started", _("journey started")
    JOURNEY_CHECKED_IN = "journey.checked_in", _("applicant checked in")
    JOURNEY_MISSED = "journey.missed", _("check-in missed: alarm raised")
    JOURNEY_ESCALATED = "journey.escalated", _("missed check-in escalated to coordinators")
    JOURNEY_ACKNOWLEDGED = "journey.acknowledged", _("check-in alarm handled")
    JOURNEY_SWITCHED = "journey.switched", _("journey switched to a backup route")
    JOURNEY_ENDED = "journey.ended", _("journey ended")
    APPLICATION_CHANGED = "application.changed", _("visa or asylum application recorded")
    REPORT_EXPORTED = "report.exported", _("statistics exported")
    DOCUMENT_STORED = "document.stored", _("document stored (cleaned, encrypted)")
    DOCUMENT_VIEWED = "document.viewed", _("document viewed")
    DOCUMENT_DESTROYED = "document.destroyed", _("document image destroyed")


class AuditEvent(models.Model):
    """One row of the append-only, hash-chained audit log.

    `mac` is HMAC-SHA256 over this row's fields and the previous row's mac,
    keyed with a key kept outside the database. Rows carry staff and case ids
    only, never names, addresses or text. Database triggers refuse UPDATE and
    DELETE; the chain catches whoever drops them.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    # Checked against Action in audit_record; no `choices`, so a new action needs no migration.
    action = models.CharField(max_length=64)
    actor_id = models.BigIntegerField(null=True, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["case_id", "seq"]),
            models.Index(fields=["actor_id", "seq"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditHead(models.Model):
    """The single row that serialises appends and remembers the chain's tip."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit tip at row {self.seq}"
