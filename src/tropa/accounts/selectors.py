from __future__ import annotations

import base64

from django.db.models import QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from tropa.accounts.models import Staff


def staff_list() -> QuerySet[Staff]:
    return Staff.objects.prefetch_related("teams").order_by("revoked_at", "role", "alias")


def otp_secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps want it typed in by hand."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")
