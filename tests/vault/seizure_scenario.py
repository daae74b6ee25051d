"""Run by test_seizure.py in a separate process with a real, committed database.

Plants canaries through the real code paths (intake conversation, sealing,
later messages, an uploaded file, a staff note, a staff member opening the
case file over HTTP), shreds one more case, and prints a JSON summary. The
test then searches every byte the server left behind.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from pathlib import Path

CANARIES = {
    "name": "Канарейкин Фёдор Игнатьевич",
    "latin_name": "Fyodor Kanareykin",
    "phone": "+79165550199",
    "passport": "4509771234",
    "foreign_passport": "752291847",
    "telegram_id": "7345901122",
    "free_text": "Меня забирают в часть под Белгородом в пятницу",
    "message": "CANARY-MESSAGE: I am at the station now",
    "note": "CANARY-NOTE: met his sister at the cafe",
    "file": "CANARY-PHOTO-BYTES-FROM-PASSPORT-SCAN",
    # Volunteers and routes are outed by a seizure too, unless they are encrypted.
    "volunteer_name": "Волонтёрова Канарейка Петровна",
    "volunteer_contact": "signal:+4915550123987",
    "route_place": "Canary safe flat on Lilac street",
    # A passport photo: camera data in its EXIF, its number in the MRZ.
    "photo_camera": "CanaryCam Seized-Phone 77",
    "mrz_number": "QX4471902",
}
SHREDDED = {"name": "Shreddy McShredface", "answer": "CANARY-SHRED: answer to be destroyed"}


def main(data_dir: Path) -> None:
    os.environ["TROPA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tropa.settings")
    from tropa.secrets import secrets_init

    secrets_init(data_dir / "secrets")
    import django

    django.setup()
    logging.getLogger().setLevel(logging.DEBUG)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(json.dumps(plant()))


def plant() -> dict[str, object]:
    from django.test import Client
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tropa.accounts.services import staff_create
    from tropa.cases.services import IntakeKeys, case_note_add, case_seal, case_shred
    from tropa.intake import services as intake
    from tropa.vault import services as vault
    from tropa.vault.files import file_seal

    vault.organisation_key_init()
    coordinator = staff_create(
        username="coord", alias="Oriole", role="coordinator", password="pw-coordinator-1"
    )
    device = TOTPDevice.objects.create(user=coordinator, name="phone", confirmed=True)
    vault.team_keys_ensure()
    keys = IntakeKeys.load()

    chat = CANARIES["telegram_id"]
    conversation = intake.conversation_save(
        channel="telegram",
        chat_id=chat,
        state={"answers": [CANARIES["free_text"], CANARIES["name"]]},
    )
    identity = {
        "name": CANARIES["name"],
        "latin_name": CANARIES["latin_name"],
        "phone": CANARIES["phone"],
        "passport_number": CANARIES["passport"],
        "foreign_passport_number": CANARIES["foreign_passport"],
        "telegram_id": chat,
    }
    case = intake.conversation_complete(
        conversation=conversation,
        keys=keys,
        identity=identity,
        answers=[CANARIES["free_text"]],
        category="mobilised",
        urgency=95,
        language="ru",
        region="central",
        channel="telegram",
    )
    intake.conversation_append(conversation=conversation, text=CANARIES["message"])
    file_seal(public_key=bytes(case.public_key), src=io.BytesIO(CANARIES["file"].encode() * 50))

    client = Client()
    client.post("/accounts/login/", {"username": "coord", "password": "pw-coordinator-1"})
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    client.post("/accounts/login/code/", {"code": f"{code:06d}"})
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert CANARIES["name"] in page and CANARIES["message"] in page, "staff could not read the case"

    keychain = vault.keychain_unlock(staff=coordinator, password="pw-coordinator-1")
    from tropa.cases.models import Case

    case_note_add(case=Case.objects.get(pk=case.pk), keychain=keychain, text=CANARIES["note"])

    _plant_volunteer_and_routes(keychain, case.pk)
    _plant_document(keychain, case.pk)

    doomed = case_seal(keys=keys, identity={"name": SHREDDED["name"]}, answers=[SHREDDED["answer"]])
    case_shred(case_id=doomed.pk)
    return {"case": case.codename, "shredded_codename": doomed.codename}


def _plant_volunteer_and_routes(keychain: object, case_id: int) -> None:
    """A volunteer's personal details, route knowledge naming a safe flat, and a
    plan through it for the (verified) case, through the real services."""
    from django.utils import timezone

    from tropa.accounts.services import staff_create
    from tropa.cases.models import Case
    from tropa.routes.knowledge import SAMPLE_PATH
    from tropa.routes.services import knowledge_save, plan_create
    from tropa.volunteers.services import ProfileChange, profile_create, profile_update

    volunteer = staff_create(
        username="vol", alias="Kestrel", role="caseworker", password="pw-volunteer-1"
    )
    profile = profile_create(staff=volunteer)
    profile_update(
        profile=profile,
        keychain=keychain,
        change=ProfileChange(
            languages=["ru"],
            regions=["volga"],
            skills=[],
            capacity=3,
            time_zone="UTC",
            personal={
                "name": CANARIES["volunteer_name"],
                "contact": CANARIES["volunteer_contact"],
            },
        ),
    )
    knowledge_save(
        keychain=keychain,
        text=SAMPLE_PATH.read_text().replace("Safe flat A", CANARIES["route_place"]),
    )
    Case.objects.filter(pk=case_id).update(verified_at=timezone.now())
    plan = plan_create(
        case=Case.objects.get(pk=case_id),
        keychain=keychain,
        start="south-city",
        documents=["internal_passport"],
        risk_aversion="balanced",
    )
    assert CANARIES["route_place"] in str(plan.body), "the plan should go to the canary flat"


def _plant_document(keychain: object, case_id: int) -> None:
    """A foreign-passport photo through the documents pipeline, and its MRZ read."""
    from datetime import date

    from PIL import Image

    from tropa.cases.models import Case
    from tropa.documents import mrz
    from tropa.documents.services import document_facts_from_mrz, document_receive

    image = Image.new("RGB", (800, 600), (90, 110, 130))
    exif = Image.Exif()
    exif[0x010F] = CANARIES["photo_camera"]
    exif.get_ifd(0x8825).update({1: "N", 2: (55.0, 45.0, 30.0), 3: "E", 4: (37.0, 37.0, 0.0)})
    photo = io.BytesIO()
    image.save(photo, format="JPEG", exif=exif)
    case = Case.objects.get(pk=case_id)
    document = document_receive(
        case=case, data=photo.getvalue(), kind="foreign_passport", source="telegram"
    )
    number, birth, expiry = CANARIES["mrz_number"], "900101", "300101"
    optional = "<" * 14
    body = (
        f"{number}{mrz.check_digit(number)}UTO{birth}{mrz.check_digit(birth)}M"
        f"{expiry}{mrz.check_digit(expiry)}{optional}{mrz.check_digit(optional)}"
    )
    body += str(mrz.check_digit(body[0:10] + body[13:20] + body[21:43]))
    saved = document_facts_from_mrz(
        document=document,
        keychain=keychain,
        text="P<UTOTESTOV<<PRIMER".ljust(44, "<") + "\n" + body,
        today=date(2026, 1, 1),
    )
    assert all(saved.result.checks.values()), saved.result.problems


if __name__ == "__main__":
    main(Path(sys.argv[1]))
