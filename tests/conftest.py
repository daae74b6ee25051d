"""Shared personas and helpers for every app's tests.

Personas (as in healthchecks' Alice/Bob/Charlie): a coordinator, a caseworker
in the legal team, and a caseworker in the visa team with nothing of the
others'. Logins go through the real two-step flow unless a test only needs a
signed-in browser session.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to reach beyond loopback (Tropa never calls out)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise RuntimeError(f"test tried to reach the network: {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@dataclass
class Persona:
    staff: Any
    device: TOTPDevice
    password: str = PASSWORD


def make_persona(username: str, alias: str, role: str, teams: list[str]) -> Persona:
    from tropa.accounts.services import staff_create, teams_ensure

    teams_ensure()
    staff = staff_create(username=username, alias=alias, role=role, password=PASSWORD, teams=teams)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    return Persona(staff, device)


@dataclass
class Organisation:
    """The three personas, team keys wrapped for them, and the offline recovery key."""

    coordinator: Persona
    caseworker: Persona
    other_caseworker: Persona
    recovery_private: bytes


@pytest.fixture
def org(db: None) -> Organisation:
    from tropa.vault import services as vault

    recovery = vault.organisation_key_init()
    personas = (
        make_persona("alice", "Oriole", "coordinator", []),
        make_persona("bob", "Lynx", "caseworker", ["legal"]),
        make_persona("charlie", "Marten", "caseworker", ["visa"]),
    )
    vault.team_keys_ensure()
    return Organisation(*personas, recovery_private=recovery.private)


@pytest.fixture
def coordinator(org: Organisation) -> Persona:
    return org.coordinator


@pytest.fixture
def caseworker(org: Organisation) -> Persona:
    return org.caseworker


@pytest.fixture
def other_caseworker(org: Organisation) -> Persona:
    return org.other_caseworker


@pytest.fixture
def second_lawyer(org: Organisation) -> Persona:
    """A second caseworker in the legal team, so the matcher has a choice."""
    from tropa.accounts.models import Team
    from tropa.vault import services as vault

    persona = make_persona("dora", "Ermine", "caseworker", ["legal"])
    vault.team_holder_add(
        team=Team.objects.get(kind="legal"), staff=persona.staff, by=keychain_of(org.coordinator)
    )
    return persona


def keychain_of(persona: Persona) -> Any:
    from tropa.vault.services import keychain_unlock

    return keychain_unlock(staff=persona.staff, password=persona.password)


def totp_code(device: TOTPDevice, *, steps_from_now: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + steps_from_now * device.step
    return f"{totp.token():06d}"


def password_step(client: Client, persona: Persona, password: str | None = None) -> Any:
    return client.post(
        "/accounts/login/",
        {"username": persona.staff.username, "password": password or persona.password},
    )


def full_login(client: Client, persona: Persona) -> Any:
    """The real two-step login; returns the response to the code step."""
    response = password_step(client, persona)
    assert response.status_code == 302, response.content[:500]
    return client.post("/accounts/login/code/", {"code": totp_code(persona.device)})


def sign_in(client: Client, persona: Persona) -> Client:
    """A verified session without spending a TOTP step (for tests about other things)."""
    import base64

    from django.conf import settings

    from tropa.accounts.services import session_register
    from tropa.vault import crypto
    from tropa.vault.session import SESSION_BLOB

    client.force_login(persona.staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persona.device.persistent_id
    # The same split as a real login: ciphertext in the session, key in a cookie.
    session_key = crypto.session_key_generate()
    blob = crypto.session_protect(
        session_key, keychain_of(persona).private_key, session_id=f"staff:{persona.staff.pk}"
    )
    session[SESSION_BLOB] = base64.b64encode(blob).decode()
    session.save()
    client.cookies[settings.VAULT_COOKIE_NAME] = base64.urlsafe_b64encode(session_key).decode()
    session_register(staff=persona.staff, session_key=session.session_key)
    return client


def in_english(client: Client) -> Client:
    """The interface in English (Russian is the default), for tests that read pages."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def coordinator_client(coordinator: Persona) -> Iterator[Client]:
    yield sign_in(Client(), coordinator)


def audit_actions() -> list[str]:
    from tropa.audit.models import AuditEvent

    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
