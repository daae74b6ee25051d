"""Who holds which key. Every private key here is ciphertext; public keys are not secret."""

from __future__ import annotations

from django.db import models


class StaffKey(models.Model):
    """A staff member's X25519 key pair; the private half only under their password."""

    staff = models.OneToOneField("accounts.Staff", on_delete=models.CASCADE, related_name="key")
    public_key = models.BinaryField()
    protected_private = models.BinaryField()  # crypto.password_protect blob
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"key of staff {self.staff_id}"


class TeamKey(models.Model):
    """A team's current X25519 key pair. `version` grows with each rotation."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="key")
    version = models.PositiveIntegerField(default=1)
    public_key = models.BinaryField()

    def __str__(self) -> str:
        return f"key of team {self.team_id} v{self.version}"


class TeamKeyWrap(models.Model):
    """The team private key sealed for one holder: a member, a coordinator, or
    (staff empty) the offline organisation recovery key."""

    team_key = models.ForeignKey(TeamKey, on_delete=models.CASCADE, related_name="wraps")
    staff = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    wrapped = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team_key", "staff"], name="one_team_wrap_per_holder"),
            models.UniqueConstraint(
                fields=["team_key"],
                condition=models.Q(staff__isnull=True),
                name="one_recovery_wrap_per_team",
            ),
        ]

    def __str__(self) -> str:
        return f"team key {self.team_key_id} for staff {self.staff_id or 'recovery'}"


class OrganisationKey(models.Model):
    """The public half of the offline recovery key (`tropa keys init`). One row."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    recovery_public_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return "organisation recovery key"


class CaseKeyWrap(models.Model):
    """A case key sealed for one holder: an assigned staff member, a team, or
    (both empty) the offline recovery key. Access to a case is exactly the
    set of these rows: assigning makes one, unassigning deletes it."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="wraps")
    staff = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    wrapped = models.BinaryField()
    assigned_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(staff__isnull=False) & models.Q(team__isnull=False)),
                name="case_wrap_one_holder",
            ),
            models.UniqueConstraint(fields=["case", "staff"], name="one_case_wrap_per_staff"),
            models.UniqueConstraint(fields=["case", "team"], name="one_case_wrap_per_team"),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(staff__isnull=True, team__isnull=True),
                name="one_recovery_wrap_per_case",
            ),
        ]
        # The caseworker's queue looks wraps up by holder, not by case.
        indexes = [
            models.Index(
                fields=["staff", "case"],
                condition=models.Q(staff__isnull=False),
                name="wrap_by_staff",
            ),
            models.Index(
                fields=["team", "case"], condition=models.Q(team__isnull=False), name="wrap_by_team"
            ),
        ]

    def __str__(self) -> str:
        holder = (
            f"staff {self.staff_id}"
            if self.staff_id
            else f"team {self.team_id}"
            if self.team_id
            else "recovery"
        )
        return f"case {self.case_id} key for {holder}"
