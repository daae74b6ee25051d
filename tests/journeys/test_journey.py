"""Journeys with a controllable clock: check-ins on time, a missed one (alarm), a
second miss (escalation), a switch to a backup, and a worker restart in between
(nothing lost, nothing doubled)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import audit_actions, in_english, keychain_of, sign_in
from tests.journeys.conftest import CHAT, Evacuation
from tropa.cases.models import CaseEntry
from tropa.intake import flows
from tropa.intake.models import OutboundMessage
from tropa.journeys import services
from tropa.journeys.models import CheckIn, Journey, JourneyStatus
from tropa.routes.services import plan_create

GRACE = 30


def _start(evacuation: Evacuation, departed: datetime, route_index: int = 0) -> Journey:
    keychain = keychain_of(evacuation.caseworker)
    route_plan = plan_create(
        case=evacuation.case,
        keychain=keychain,
        start="north-city",
        documents=["internal_passport"],
        risk_aversion="balanced",
    )
    return services.journey_start(
        route_plan=route_plan,
        keychain=keychain,
        route_index=route_index,
        departed_at=departed,
        grace_minutes=GRACE,
    )


def _press_check_in() -> Any:
    from tropa.intake.services import intake_receive

    return intake_receive(
        channel="web",
        address=CHAT,
        inbound=flows.Inbound(kind="choice", choice=services.CHECK_IN_BUTTON),
    )


def _check_ins(journey: Journey) -> list[CheckIn]:
    return list(CheckIn.objects.filter(journey=journey).order_by("due_at", "id"))


def test_start_schedules_a_check_in_per_leg_and_tells_the_applicant(
    evacuation: Evacuation,
) -> None:
    departed = timezone.now()
    journey = _start(evacuation, departed)
    check_ins = _check_ins(journey)
    assert len(check_ins) >= 2 and [c.seq for c in check_ins] == list(range(1, len(check_ins) + 1))
    assert all(c.alarm_at == c.due_at + timedelta(minutes=GRACE) for c in check_ins)
    assert check_ins[0].due_at > departed
    (notice,) = OutboundMessage.objects.filter(conversation__case=evacuation.case)
    assert notice.buttons == [[services.CHECK_IN_BUTTON, "✅ I have arrived at the next stop"]]
    from tropa.cases.models import Case

    assert Case.objects.get(pk=evacuation.case.pk).status == "on_the_move"
    assert "journey.started" in audit_actions()


def test_check_ins_on_time_raise_nothing_and_the_last_one_completes(
    evacuation: Evacuation,
) -> None:
    journey = _start(evacuation, timezone.now() - timedelta(minutes=1))
    check_ins = _check_ins(journey)
    for _ in check_ins:
        received = _press_check_in()
        (answer,) = received.outbound
        assert "received" in answer.text or "arrived" in answer.text
    latest = max(c.escalate_at for c in check_ins) + timedelta(hours=1)
    assert services.check_ins_sweep(now=latest) == services.Swept(alarms=0, escalations=0)
    journey.refresh_from_db()
    assert journey.status == JourneyStatus.COMPLETED
    assert audit_actions().count("journey.checked_in") == len(check_ins)
    assert "no journey" in _press_check_in().outbound[0].text


def test_a_missed_check_in_alarms_then_escalates_once(evacuation: Evacuation) -> None:
    journey = _start(evacuation, timezone.now())
    first = _check_ins(journey)[0]
    # Before the grace period ends nothing happens.
    assert services.check_ins_sweep(now=first.alarm_at - timedelta(seconds=1)).alarms == 0
    assert services.check_in_alarm(check_in_id=first.pk, now=first.alarm_at) is True
    assert services.check_in_alarm(check_in_id=first.pk, now=first.alarm_at) is False
    assert services.check_ins_sweep(now=first.alarm_at + timedelta(minutes=1)).alarms == 0
    # The evacuation caseworker sees it in the queue; the lawyer does not.
    falcon = in_english(sign_in(Client(), evacuation.caseworker)).get("/cases/").content.decode()
    assert "Missed check-ins" in falcon and evacuation.case.codename in falcon
    lawyer = (
        in_english(sign_in(Client(), evacuation.org.caseworker)).get("/cases/").content.decode()
    )
    assert "Missed check-ins" not in lawyer
    # A second grace period: the coordinators.
    swept = services.check_ins_sweep(now=first.escalate_at)
    assert swept == services.Swept(alarms=0, escalations=1)
    assert services.check_ins_sweep(now=first.escalate_at + timedelta(hours=1)).escalations == 0
    coordinator = (
        in_english(sign_in(Client(), evacuation.org.coordinator)).get("/cases/").content.decode()
    )
    assert "escalated to coordinators" in coordinator
    assert audit_actions().count("journey.missed") == 1
    assert audit_actions().count("journey.escalated") == 1
    texts = [e.kind for e in CaseEntry.objects.filter(case=evacuation.case, kind="journey")]
    assert len(texts) >= 4  # planned, started, alarm, escalation


def test_an_alarm_handled_in_time_does_not_escalate(evacuation: Evacuation) -> None:
    journey = _start(evacuation, timezone.now())
    first = _check_ins(journey)[0]
    services.check_in_alarm(check_in_id=first.pk, now=first.alarm_at)
    client = in_english(sign_in(Client(), evacuation.caseworker))
    client.post(f"/journeys/case/{evacuation.case.pk}/check-in/{first.pk}/handled/")
    assert services.check_ins_sweep(now=first.escalate_at).escalations == 0
    assert "Missed check-ins" not in client.get("/cases/").content.decode()


def test_switching_to_a_backup_mid_journey(evacuation: Evacuation) -> None:
    journey = _start(evacuation, timezone.now() - timedelta(days=2))
    services.check_ins_sweep(now=timezone.now())
    client = in_english(sign_in(Client(), evacuation.caseworker))
    page = client.get(f"/journeys/case/{evacuation.case.pk}/").content.decode()
    assert "Switch to backup 1" in page
    client.post(f"/journeys/case/{evacuation.case.pk}/journey/{journey.pk}/switch/", {"route": 1})
    journey.refresh_from_db()
    assert journey.route_index == 1 and journey.status == JourneyStatus.ACTIVE
    old = CheckIn.objects.filter(journey=journey, route_index=0)
    assert all(c.superseded_at is not None for c in old)
    new = CheckIn.objects.filter(journey=journey, route_index=1, superseded_at=None)
    assert new.exists() and all(c.due_at > timezone.now() for c in new)
    assert "Missed check-ins" not in client.get("/cases/").content.decode()
    assert "journey.switched" in audit_actions()
    assert OutboundMessage.objects.filter(conversation__case=evacuation.case).count() == 2


def test_a_second_journey_waits_for_the_first(evacuation: Evacuation) -> None:
    from tropa.cases.services import TransitionRefused

    _start(evacuation, timezone.now())
    with pytest.raises(TransitionRefused):
        _start(evacuation, timezone.now())


# --------------------------------------------------------- the real task queue


@pytest.fixture
def huey_on_disk(tmp_path: Path) -> Any:
    """The project's Huey, not immediate, on a SQLite file (as in production)."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import SqliteStorage

    saved = HUEY.immediate, HUEY.storage
    HUEY.immediate = False
    path = tmp_path / "huey.sqlite3"
    HUEY.storage = SqliteStorage(name="tropa-test", filename=str(path))
    yield HUEY, path
    HUEY.immediate, HUEY.storage = saved


def _restart(huey: Any, path: Path) -> None:
    """A new worker process: a fresh connection to the same storage, nothing in memory."""
    from huey.storage import SqliteStorage

    huey.storage = SqliteStorage(name="tropa-test", filename=str(path))


def _run_due(huey: Any, at: datetime, monkeypatch: pytest.MonkeyPatch, capture: Any) -> int:
    """What the consumer does at `at`: queued tasks not due yet go to the schedule,
    then the due ones are taken from the schedule and run. Returns how many ran."""
    from datetime import UTC

    monkeypatch.setattr("tropa.journeys.tasks.timezone.now", lambda: at)
    # The worker closes its database connection around each task; inside the
    # test's transaction that would end the test (Django's test client skips
    # the same call after each request for the same reason).
    monkeypatch.setattr("huey.contrib.djhuey.close_old_connections", lambda: None)
    stamp = at.astimezone(UTC).replace(tzinfo=None)
    ran = 0
    with capture(execute=True):
        while (task := huey.dequeue()) is not None:
            ran += huey.ready_to_run(task, stamp)
            huey.execute(task, timestamp=stamp)
        for task in huey.read_schedule(stamp):
            huey.execute(task, timestamp=stamp)
            ran += 1
    return ran


def test_alarms_survive_a_worker_restart_without_doubling(
    evacuation: Evacuation,
    huey_on_disk: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    huey, path = huey_on_disk
    with django_capture_on_commit_callbacks(execute=True):
        journey = _start(evacuation, timezone.now())
    check_ins = _check_ins(journey)
    assert huey.pending_count() == len(check_ins)  # enqueued with their times, on disk

    _restart(huey, path)
    first = check_ins[0]
    ran = _run_due(huey, first.alarm_at, monkeypatch, django_capture_on_commit_callbacks)
    assert ran == 1 and CheckIn.objects.get(pk=first.pk).missed_at == first.alarm_at
    # The others wait in the schedule; the escalation was enqueued behind them.
    assert huey.scheduled_count() == len(check_ins) - 1 and huey.pending_count() == 1

    # The worker dies and comes back; the sweep and a redelivered task run too.
    _restart(huey, path)
    services.check_ins_sweep(now=first.alarm_at + timedelta(minutes=1))
    from tropa.journeys.tasks import check_in_watch

    with django_capture_on_commit_callbacks(execute=True):
        assert check_in_watch.call_local(first.pk) is False
    ran = _run_due(huey, first.escalate_at, monkeypatch, django_capture_on_commit_callbacks)
    assert ran == 1
    _restart(huey, path)
    services.check_ins_sweep(now=first.escalate_at + timedelta(minutes=5))

    assert audit_actions().count("journey.missed") == 1
    assert audit_actions().count("journey.escalated") == 1
    # The rest still wait, none lost.
    assert huey.scheduled_count() + huey.pending_count() == len(check_ins) - 1


def test_the_applicant_checks_in_from_the_web_chat(evacuation: Evacuation) -> None:
    from tropa.intake.channels.web.services import SESSION_CHAT

    journey = _start(evacuation, timezone.now())
    browser = Client()
    session = browser.session
    session[SESSION_CHAT] = CHAT
    session.save()
    page = browser.get("/chat/").content.decode()
    assert "I have arrived at the next stop" in page and services.CHECK_IN_BUTTON in page
    browser.post("/chat/", {"choice": services.CHECK_IN_BUTTON})
    page = browser.get("/chat/").content.decode()
    assert "check-in 1 of" in page
    assert "checkin:now</" not in page  # the transcript shows the label, not the value
    assert CheckIn.objects.filter(journey=journey, seq=1).get().done_at is not None
