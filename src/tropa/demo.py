"""`tropa demo`: one command from a fresh checkout to a running Tropa with demo data.

Prepares the embedded SQLite database under ./var, creates the secrets, loads
synthetic staff, prints their logins (password and a TOTP QR code for a phone
authenticator) and serves the web app on 127.0.0.1 over plain HTTP.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tropa.secrets import secrets_init


@dataclass(frozen=True)
class DemoStaff:
    username: str
    alias: str
    role: str
    teams: tuple[str, ...]

    @property
    def password(self) -> str:
        return f"tropa-demo-{self.username}"


# Synthetic people only: aliases are bird and animal names, as volunteers use.
DEMO_STAFF = (
    DemoStaff("coordinator", "Oriole", "coordinator", ()),
    DemoStaff("coordinator2", "Heron", "coordinator", ()),
    DemoStaff("legal", "Lynx", "caseworker", ("legal",)),
    DemoStaff("psychologist", "Otter", "caseworker", ("psychological",)),
    DemoStaff("evacuation", "Falcon", "caseworker", ("evacuation", "documents")),
    DemoStaff("visa", "Marten", "caseworker", ("visa",)),
)


def _demo_environment(data_dir: Path) -> None:
    # The demo speaks plain HTTP on loopback, so cookies cannot be Secure and
    # there is no TLS to redirect to. Production leaves both at their defaults.
    os.environ.setdefault("TROPA_DATA_DIR", str(data_dir))
    os.environ.setdefault("TROPA_SECURE_COOKIES", "0")
    os.environ.setdefault("TROPA_SSL_REDIRECT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tropa.settings")


def demo_load(data_dir: Path) -> list[tuple[DemoStaff, str]]:
    """Create the demo staff, keys and cases if absent; return logins with otpauth URIs."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tropa.accounts.models import Staff
    from tropa.accounts.services import staff_create, teams_ensure
    from tropa.vault import services as vault
    from tropa.vault.models import OrganisationKey

    teams_ensure()
    if not OrganisationKey.objects.exists():
        _recovery_key_init(data_dir)
    logins = []
    for person in DEMO_STAFF:
        staff = Staff.objects.filter(username=person.username).first()
        if staff is None:
            staff = staff_create(
                username=person.username,
                alias=person.alias,
                role=person.role,
                password=person.password,
                teams=list(person.teams),
            )
        device = TOTPDevice.objects.filter(user=staff, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=staff, name="demo phone", confirmed=True)
        logins.append((person, device.config_url))
    vault.team_keys_ensure()
    _demo_cases()
    return logins


def _recovery_key_init(data_dir: Path) -> None:
    """In production the private half goes offline; the demo keeps it beside the data."""
    import base64

    from tropa.vault import services as vault

    pair = vault.organisation_key_init()
    path = data_dir / "offline-recovery-key-DEMO-ONLY"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(pair.private).decode() + "\n")


def _demo_cases() -> None:
    """A few dozen synthetic cases through the same sealing path intake uses."""
    from tropa.accounts.models import Staff
    from tropa.cases.demo_data import demo_cases_load
    from tropa.vault import services as vault
    from tropa.volunteers.demo_data import demo_profiles_for_staff, demo_volunteers_load

    lead = DEMO_STAFF[0]
    staff = Staff.objects.get(username=lead.username)
    keychain = vault.keychain_unlock(staff=staff, password=lead.password)
    demo_profiles_for_staff(keychain=keychain, coordinator=staff)
    demo_volunteers_load(coordinator=staff, keychain=keychain)
    demo_cases_load(assigner=keychain)
    from tropa.cases.demo_data import demo_history_load

    demo_history_load()
    from tropa.routes.models import KnowledgeVersion
    from tropa.routes.services import knowledge_load_sample

    if not KnowledgeVersion.objects.exists():
        knowledge_load_sample(keychain=keychain)


def print_logins(logins: list[tuple[DemoStaff, str]], *, url: str, qr: bool) -> None:
    import segno
    from rich.console import Console

    console = Console(highlight=False)
    console.rule("[bold]Tropa demo")
    console.print(f"Web app: [bold]{url}[/bold]  (synthetic data only)")
    console.print(f"Intake chat to try (works without JavaScript): [bold]{url}chat/[/bold]")
    console.print("Or in a terminal: .venv/bin/tropa chat --lang en")
    for person, otpauth in logins:
        teams = ", ".join(person.teams) or "-"
        console.print(
            f"\n[bold]{person.username}[/bold] / {person.password}   "
            f"alias {person.alias}, {person.role}, teams: {teams}"
        )
        console.print(f"TOTP: {otpauth}", soft_wrap=True)
        if qr:
            segno.make(otpauth, error="l").terminal(compact=True)
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tropa demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=Path("var"))
    parser.add_argument("--no-qr", action="store_true", help="print otpauth URIs only")
    parser.add_argument("--no-serve", action="store_true", help="prepare and print, then exit")
    args = parser.parse_args(argv)

    data_dir = args.data_dir.resolve()
    _demo_environment(data_dir)
    secrets_init(Path(os.environ.get("TROPA_SECRETS_DIR", data_dir / "secrets")))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    logins = demo_load(data_dir)
    print_logins(logins, url=f"http://{args.host}:{args.port}/", qr=not args.no_qr)
    if args.no_serve:
        return 0
    call_command("serve", bind=f"{args.host}:{args.port}", workers=args.workers, with_jobs=True)
    return 0
