"""`tropa flows …`, `tropa chat` and `tropa relay` as an operator or a tester uses them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import polib
import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import Organisation, totp_code
from tropa.cases.models import Case
from tropa.intake import flows
from tropa.intake.channels.console import chat_run

# English, for myself, mobilised, within days, documents yes/no/yes, a region,
# help wanted, the description, no duress PIN, consent.
ANSWERS = [
    "2\n",
    "1\n",
    "4\n",
    "1\n",
    "1\n",
    "2\n",
    "1\n",
    "1\n",
    "1\n",
    "I was mobilised last week.\n",
    "2\n",
    "1\n",
]


def test_the_default_flow_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("flows", "check")
    assert "no problems" in capsys.readouterr().out


def test_a_broken_flow_is_reported(tmp_path: Path) -> None:
    doc = yaml.safe_load(flows.DEFAULT_FLOW_PATH.read_text(encoding="utf-8"))
    doc["nodes"][1]["next"] = "nowhere"
    del doc["translations"]["en"]["who.prompt"]
    broken = tmp_path / "flow.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError, match="errors"):
        call_command("flows", "check", str(broken))


def test_po_round_trip_updates_a_translation(tmp_path: Path) -> None:
    flow_copy = tmp_path / "default.yaml"
    shutil.copy(flows.DEFAULT_FLOW_PATH, flow_copy)
    po_path = tmp_path / "ru.po"
    call_command("flows", "export-po", "ru", "--out", str(po_path), "--flow", str(flow_copy))
    po = polib.pofile(str(po_path))
    entry = next(e for e in po if e.msgctxt == "who.prompt")
    entry.msgstr = "За кого вы пишете? (новый текст)"
    po.save()
    call_command("flows", "import-po", "ru", str(po_path), "--flow", str(flow_copy))
    flow = flows.load_flow(flow_copy)
    assert flow.text("who.prompt", "ru") == "За кого вы пишете? (новый текст)"


@pytest.mark.django_db
def test_console_simulator_runs_the_whole_flow(org: Organisation) -> None:
    lines = iter([*ANSWERS, ""])
    out = io.StringIO()
    chat_run(read=lambda: next(lines), out=out)
    text = out.getvalue()
    case = Case.objects.get()
    assert case.channel == "console" and case.category == "mobilised"
    assert f"(case sealed: {case.codename})" in text


@pytest.mark.django_db
def test_relay_reads_and_answers_from_the_terminal(
    org: Organisation, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = iter([*ANSWERS, "Please call me\n", ""])
    chat_run(read=lambda: next(lines), out=io.StringIO())
    case = Case.objects.get()
    persona = org.coordinator
    monkeypatch.setattr("getpass.getpass", lambda prompt="": persona.password)
    codes = iter(
        [
            totp_code(persona.device),
            totp_code(persona.device, steps_from_now=1),
            totp_code(persona.device, steps_from_now=2),
        ]
    )
    monkeypatch.setattr("builtins.input", lambda prompt="": next(codes))
    call_command("relay", "--username", persona.staff.username, "list")
    assert case.codename in capsys.readouterr().out
    call_command("relay", "--username", persona.staff.username, "show", case.codename)
    assert "Please call me" in capsys.readouterr().out
    call_command("relay", "--username", persona.staff.username, "reply", case.codename, "We will")
    assert "queued" in capsys.readouterr().out


@pytest.mark.django_db
def test_relay_refuses_a_wrong_password(org: Organisation, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wrong")
    with pytest.raises(CommandError, match="wrong username or password"):
        call_command("relay", "--username", org.coordinator.staff.username, "list")
