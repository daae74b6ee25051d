"""`tropa relay`: a staff member reads and answers cases from the terminal."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tropa.accounts import services as accounts
from tropa.cases.models import Case
from tropa.cases.selectors import case_timeline, cases_visible_to
from tropa.cases.services import case_open
from tropa.intake.services import relay_reply
from tropa.vault import crypto
from tropa.vault import services as vault


class Command(BaseCommand):
    help = "Read the cases you may open and answer an applicant through his channel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list")
        show = sub.add_parser("show")
        show.add_argument("codename")
        reply = sub.add_parser("reply")
        reply.add_argument("codename")
        reply.add_argument("text")

    def handle(self, *args: Any, **options: Any) -> None:
        keychain = self._log_in(options["username"])
        if options["action"] == "list":
            for case in cases_visible_to(keychain):
                self.stdout.write(f"{case.codename}\t{case.status}\turgency {case.urgency}")
            return
        case = self._case(options["codename"], keychain)
        if options["action"] == "show":
            for entry in case_timeline(case):
                self.stdout.write(f"[{entry.created_at:%Y-%m-%d %H:%M}] {entry.kind}: {entry.body}")
            return
        outbound = relay_reply(case=case, keychain=keychain, text=options["text"])
        self.stdout.write(
            "queued" if outbound and outbound.status == "queued" else "kept in the case"
        )

    def _log_in(self, username: str) -> vault.Keychain:
        password = getpass.getpass("Password: ")
        check = accounts.login_check_password(username=username, password=password)
        if check.staff is None:
            raise CommandError("wrong username or password")
        device = accounts.otp_confirmed_device(check.staff)
        code = input("One-time code: ")
        if (
            device is None
            or accounts.otp_verify(staff=check.staff, device=device, code=code)
            is not accounts.OtpOutcome.OK
        ):
            raise CommandError("wrong, expired or reused one-time code")
        try:
            return vault.keychain_unlock(staff=check.staff, password=password)
        except crypto.VaultError as error:
            raise CommandError(str(error)) from None

    def _case(self, codename: str, keychain: vault.Keychain) -> Case:
        case = cases_visible_to(keychain).filter(codename__iexact=codename).first()
        if case is None:
            raise CommandError(f"no case {codename} among yours")
        return case_open(case=case, keychain=keychain)
