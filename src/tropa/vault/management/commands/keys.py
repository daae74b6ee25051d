"""`tropa keys init | recover | rotate-field-key`."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tropa.accounts.models import Staff, Team
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.models import Case
from tropa.cases.services import case_recover
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.vault.rotation import field_key_rotate


def _read_recovery_key(path: Path) -> bytes:
    try:
        key = base64.b64decode(path.read_text().strip(), validate=True)
    except (OSError, binascii.Error) as error:
        raise CommandError(f"cannot read the recovery key from {path}: {error}") from None
    if len(key) != 32:
        raise CommandError(f"{path} does not hold a 32-byte recovery key")
    return key


class Command(BaseCommand):
    help = "Organisation keys: create the offline recovery key, recover access, rotate field keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create the organisation recovery key pair")
        init.add_argument(
            "--out", type=Path, help="also write the private half to this file (0600)"
        )
        recover = sub.add_parser("recover", help="re-grant access to a case with the recovery key")
        recover.add_argument("--recovery-key-file", type=Path, required=True)
        recover.add_argument("--case", required=True, help="case id or codename")
        target = recover.add_mutually_exclusive_group(required=True)
        target.add_argument("--to-staff", help="username to give access to")
        target.add_argument("--to-team", help="team kind to give access to")
        sub.add_parser("rotate-field-key", help="new server field key; re-encrypt; retire old")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _init(self, options: dict[str, Any]) -> None:
        try:
            pair = vault.organisation_key_init()
        except crypto.VaultError as error:
            raise CommandError(str(error)) from None
        vault.team_keys_ensure()
        audit_record(action=Action.KEYS_INITIALISED)
        encoded = base64.b64encode(pair.private).decode()
        if options["out"]:
            fd = os.open(options["out"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(encoded + "\n")
            self.stdout.write(f"Recovery private key written to {options['out']}.")
        self.stdout.write(
            "ORGANISATION RECOVERY KEY (private half). Store it offline, on paper or an "
            "air-gapped device; it is not kept on this server and cannot be shown again:\n"
            f"{encoded}"
        )

    def _recover(self, options: dict[str, Any]) -> None:
        private = _read_recovery_key(options["recovery_key_file"])
        ref = options["case"]
        case = (
            Case.objects.filter(pk=int(ref)).first()
            if ref.isdigit()
            else Case.objects.filter(codename=ref).first()
        )
        if case is None:
            raise CommandError(f"no case {ref}")
        staff = team = None
        if options["to_staff"]:
            staff = Staff.objects.filter(username=options["to_staff"], revoked_at=None).first()
            if staff is None:
                raise CommandError(f"no active staff member {options['to_staff']}")
        else:
            team = Team.objects.filter(kind=options["to_team"]).first()
            if team is None:
                raise CommandError(f"no team {options['to_team']}")
        try:
            case_recover(case=case, recovery_private=private, staff=staff, team=team)
        except crypto.VaultError as error:
            raise CommandError(f"recovery failed: {error}") from None
        self.stdout.write(f"{case.codename}: access granted to {staff or team}.")

    def _rotate_field_key(self, options: dict[str, Any]) -> None:
        if os.environ.get("TROPA_FIELD_KEYS"):
            raise CommandError(
                "field keys come from TROPA_FIELD_KEYS; rotate with a key file instead"
            )
        path = Path(os.environ.get("TROPA_FIELD_KEYS_FILE") or settings.VAULT_FIELD_KEYS_FILE)
        version, rows = field_key_rotate(keyring_file=path)
        audit_record(action=Action.FIELD_KEY_ROTATED, detail={"version": version, "rows": rows})
        self.stdout.write(
            f"Field key version {version} in use; {rows} rows re-encrypted; "
            "older versions retired. Restart the web and bot workers."
        )
