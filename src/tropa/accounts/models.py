from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("coordinator")
    CASEWORKER = "caseworker", _("caseworker")


class TeamKind(models.TextChoices):
    """The services a case can need, each done by a team of that kind, and the
    core team of coordinators, through whose key coordinators read every case."""

    COORDINATORS = "coordinators", _("coordinators")
    LEGAL = "legal", _("legal")
    PSYCHOLOGICAL = "psychological", _("psychological")
    EVACUATION = "evacuation", _("evacuation")
    DOCUMENTS = "documents", _("documents")
    VISA = "visa", _("visa")


class Team(models.Model):
    kind = models.CharField(max_length=32, choices=TeamKind.choices, unique=True)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class StaffManager(BaseUserManager["Staff"]):
    def create_user(self, username: str, password: str | None = None, **fields: Any) -> Staff:
        staff = self.model(username=username, **fields)
        staff.set_password(password)
        staff.save(using=self._db)
        return staff


class Staff(AbstractBaseUser):
    """A member of the organisation: the core team (coordinators) or a volunteer.

    Applicants only ever see `alias`. `session_epoch` is part of the session
    auth hash, so bumping it ends every session of the account at once.
    """

    username = models.CharField(_("username"), max_length=64, unique=True)
    alias = models.CharField(_("alias"), max_length=64, unique=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    teams = models.ManyToManyField(Team, related_name="members", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    session_epoch = models.PositiveIntegerField(default=0)

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["alias", "role"]

    objects = StaffManager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.alias

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def get_session_auth_hash(self) -> str:
        return salted_hmac(
            "tropa.accounts.Staff.session",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()


class StaffSession(models.Model):
    """Which server sessions belong to whom, so revocation can delete them."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of staff {self.staff_id}"


class LoginFailure(models.Model):
    """A failed password check, keyed by an HMAC of the typed username (never the name)."""

    username_mac = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"login failure at {self.at:%Y-%m-%d %H:%M:%S}"
