"""The scale-out deployment end to end, with crashes in the middle.

nginx (the reference locations, deploy/nginx) in front of two gunicorn instances, two
job workers and two Telegram bot workers, on one PostgreSQL and one Redis. Three
applicants go through intake over Telegram's webhook at once, and one web instance is
SIGKILLed while they are halfway; Telegram's redeliveries (the same update again, and
twice at the same moment) change nothing; a coordinator answers each over HTTP through
nginx; one applicant's journey is started with its first alarm due seconds later, a job
worker is SIGKILLed before it, and the applicant presses the check-in button (delivered
twice). Then: every applicant message is in his case once, every reply reached the Bot
API stand-in once (with its flood limits enforced and never hit), the check-in is recorded
once, the alarm fired once and its escalation is scheduled once, and no log of any process
holds a message text or a chat id.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.scaleout.cluster import Browser, Cluster
from tests.scaleout.stage import ALIAS
from tropa.intake.channels.telegram.standin import StandIn

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("TROPA_REDIS_URL", "")
pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        not (DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="needs PostgreSQL (DATABASE_URL) and TROPA_REDIS_URL: make test-scaleout",
    ),
]
CHATS = (91_000_001, 91_000_002, 91_000_003)
# Two more people who write at the moment the web instance dies.
LATECOMERS = (91_000_004, 91_000_005)
# How nginx reports a request cut short by the instance dying under it.
CUT_SHORT = re.compile(r"(prematurely closed|reset by peer|Broken pipe).*upstream")
# A step's replies are settled when its outbound rows are all sent and nothing new came
# for a moment; Telegram's 1 message/s per chat spaces a two-message step by a second.
QUIET = 0.4
PENDING = (
    "SELECT count(*) FROM intake_outboundmessage o JOIN intake_conversation c "
    "ON o.conversation_id = c.id WHERE c.chat_index = %s AND o.status IN ('queued', 'sending')"
)
CODENAME = re.compile(r"\b[A-Z][a-z]+-\d{2,5}\b")
_update_ids = itertools.count(500_000)
_update_lock = threading.Lock()


def _next_update_id() -> int:
    with _update_lock:
        return next(_update_ids)


@pytest.fixture(scope="module")
def telegram() -> Iterator[StandIn]:
    with StandIn() as standin:
        # Telegram's own ceiling, enforced: two bot workers must keep it together.
        standin.enforce_limits(global_per_second=30, per_chat_per_second=1, allowance=0.05)
        yield standin


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, telegram: StandIn) -> Iterator[Cluster]:
    cluster = Cluster(
        root=tmp_path_factory.mktemp("scaleout"),
        base_database_url=DATABASE_URL,
        base_redis_url=REDIS_URL,
        telegram_api=telegram.url,
    )
    cluster.create()
    try:
        for name in ("web-1", "web-2"):
            cluster.start_web(name)
        cluster.start_worker("worker-1", periodic=True)
        cluster.start_worker("worker-2", periodic=False)
        cluster.start_bot("bot-1")
        cluster.start_bot("bot-2")
        cluster.start_nginx()
        _wait_until_served(cluster)
        yield cluster
    finally:
        cluster.stop()
        cluster.drop()


def _wait_until_served(cluster: Cluster) -> None:
    browser = Browser(cluster.url)
    deadline = time.monotonic() + 60
    served = 0
    while time.monotonic() < deadline and served < 4:  # both instances, round robin
        try:
            status, _, _ = browser.request("/accounts/login/")
        except OSError:
            status = 0
        served = served + 1 if status == 200 else 0
        time.sleep(0.1 if status == 200 else 0.5)
    assert served >= 4, cluster.logs()


class Applicant:
    """An applicant's Telegram app: his updates go to the webhook through nginx, as
    Telegram posts them, again when the answer was not 200, as Telegram does."""

    def __init__(self, cluster: Cluster, telegram: StandIn, chat_id: int) -> None:
        from tropa.vault.crypto import blind_index

        self.cluster = cluster
        self.telegram = telegram
        self.chat_id = chat_id
        self.chat_index = blind_index(
            cluster.blind_index_key.encode(), str(chat_id), kind="chat:telegram"
        )
        self.said: list[str] = []  # texts that must be in the case, once each
        self.redeliveries = 0

    def deliver(self, update: dict[str, Any]) -> None:
        url = f"{self.cluster.url}/telegram/webhook/"
        for _attempt in range(10):
            try:
                answer = self.telegram.deliver_webhook(
                    url, self.cluster.webhook_secret, update, timeout=20
                )
                if answer.status == 200:
                    return
            except Exception:  # noqa: BLE001, S110  (a connection cut by the kill: redeliver)
                pass
            self.redeliveries += 1
            time.sleep(0.5)
        raise AssertionError("the webhook never answered 200")

    def text_update(self, text: str) -> dict[str, Any]:
        return {**self.telegram.text_update(self.chat_id, text), "update_id": _next_update_id()}

    def say(self, text: str, *, answered: bool = True) -> list[str]:
        before = len(self.telegram.texts(self.chat_id))
        self.deliver(self.text_update(text))
        return self.settle(before) if answered else []

    def press(self, label: str | None = None) -> list[str]:
        buttons = self.buttons()
        matches = [value for value, text in buttons if label is None or label in text]
        assert matches, f"no button {label!r} among {[text for _, text in buttons]}"
        before = len(self.telegram.texts(self.chat_id))
        self.deliver(self.callback_update(matches[0]))
        return self.settle(before)

    def callback_update(self, data: str) -> dict[str, Any]:
        update = self.telegram.callback_update(self.chat_id, data, 1)
        return {**update, "update_id": _next_update_id()}

    def buttons(self) -> list[tuple[str, str]]:
        for call in reversed(self.telegram.sent):
            if call.method != "sendMessage" or call.chat_id != self.chat_id:
                continue
            rows = (call.params.get("reply_markup") or {}).get("inline_keyboard")
            if rows:
                return [(row[0]["callback_data"], row[0]["text"]) for row in rows]
        return []

    def pending(self) -> int:
        return int(self.cluster.sql(PENDING, self.chat_index)[0][0])

    def settle(self, before: int, *, timeout: float = 30) -> list[str]:
        """The bot's replies to one update: all its queued rows sent, then quiet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.telegram.texts(self.chat_id)
            if len(texts) > before and not self.pending():
                time.sleep(QUIET)
                if len(self.telegram.texts(self.chat_id)) == len(texts) and not self.pending():
                    return texts[before:]
            time.sleep(0.05)
        raise AssertionError(f"no answer; the bot said {self.telegram.texts(self.chat_id)[-2:]}")

    def intake(self, halfway: threading.Event) -> str:
        """The whole intake flow (English), then two later messages to the case."""
        self.say("/start")
        for step, label in enumerate(("English", "For myself", "Mobilised", "days", "Yes")):
            self.press(label)
            if step == 2:
                halfway.set()
        self.press("No")
        self.press("Yes")
        self.press()  # region
        self.press()  # help wanted
        story = f"My unit leaves on Friday, chat {self.chat_id} story"
        self.said.append(story)
        self.say(story)
        self.press("No")  # no duress PIN
        said = self.press("Yes")  # consent
        codename = CODENAME.search(" ".join(said))
        assert codename, said
        for number in (1, 2):
            later = f"Later message {number} from chat {self.chat_id}"
            self.said.append(later)
            # Only the first message after intake is acknowledged.
            self.say(later, answered=number == 1)
        return codename.group(0)


def _intake_all(applicants: list[Applicant], on_halfway: Any) -> list[str]:
    codenames: dict[int, str] = {}
    errors: list[BaseException] = []
    halfway = threading.Event()

    def run(applicant: Applicant) -> None:
        try:
            codenames[applicant.chat_id] = applicant.intake(halfway)
        except BaseException as error:  # noqa: BLE001  (re-raised in the test's thread)
            errors.append(error)
            halfway.set()

    threads = [threading.Thread(target=run, args=(a,)) for a in applicants]
    for thread in threads:
        thread.start()
    assert halfway.wait(timeout=60)
    on_halfway()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return [codenames[a.chat_id] for a in applicants]


def _crash_web_instance(cluster: Cluster, latecomers: list[Applicant]) -> None:
    """web-1 freezes, requests reach it and hang, then it is SIGKILLed under them.

    Round robin sends every other request to web-1, so of the two latecomers' first
    messages (sent while it is frozen) at least one is in it when it dies.
    """
    cluster.freeze("web-1")
    threads = [threading.Thread(target=a.say, args=("/start",)) for a in latecomers]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    cluster.kill("web-1")
    for thread in threads:
        thread.join(timeout=60)


def _redeliver(applicant: Applicant, *, at_once: bool) -> None:
    """Telegram sends an update again when it saw no 200 (the answer was lost):
    after the first was handled, or racing it on the other instance."""
    text = f"Redelivered message from chat {applicant.chat_id}"
    applicant.said.append(text)
    update = applicant.text_update(text)
    if at_once:
        threads = [threading.Thread(target=applicant.deliver, args=(update,)) for _ in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    else:
        applicant.deliver(update)
        applicant.deliver(update)


def _log_in(cluster: Cluster, seeded: dict[str, str]) -> Browser:
    from django_otp.oath import totp

    browser = Browser(cluster.url)
    status, location = browser.post(
        "/accounts/login/",
        {"username": seeded["username"], "password": seeded["password"]},
    )
    assert (status, location) == (302, "/accounts/login/code/"), status
    code = f"{totp(bytes.fromhex(seeded['totp_key'])):06d}"
    status, location = browser.post("/accounts/login/code/", {"code": code})
    assert status == 302 and "/accounts/home/" in location, (status, location)
    return browser


def _wait_for(predicate: Any, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _count_in_timeline(timeline: list[list[str]], text: str) -> int:
    """Entries holding the text (the story is kept as "question: answer")."""
    return sum(1 for _kind, body in timeline if text in body)


def test_scale_out_survives_killed_workers_without_losing_or_doubling(
    cluster: Cluster, telegram: StandIn
) -> None:
    started = time.monotonic()
    seeded = cluster.stage("seed")
    applicants = [Applicant(cluster, telegram, chat) for chat in CHATS]
    latecomers = [Applicant(cluster, telegram, chat) for chat in LATECOMERS]

    # 1. Three intakes at once; one web instance dies halfway, with requests in it.
    codenames = _intake_all(applicants, on_halfway=lambda: _crash_web_instance(cluster, latecomers))
    assert not cluster.alive("web-1") and cluster.alive("web-2")
    assert CUT_SHORT.search(cluster.logs()["nginx-error.log"]), "no request was cut short"
    # nginx passed what web-1 never answered to web-2 (the webhook is idempotent), so
    # Telegram would not even have had to send anything again.
    assert sum(a.redeliveries for a in applicants + latecomers) == 0
    for latecomer in latecomers:
        welcome = telegram.texts(latecomer.chat_id)
        assert welcome and len(welcome) == len(set(welcome)), welcome  # answered once
    _redeliver(applicants[0], at_once=False)
    _redeliver(applicants[1], at_once=True)

    # 2. The coordinator answers each applicant over HTTP, through nginx.
    cases = cluster.stage("inspect", *codenames)["cases"]
    browser = _log_in(cluster, seeded)
    replies = {}
    for applicant, codename in zip(applicants, codenames, strict=True):
        reply = f"We have your case {codename}; a lawyer will write today"
        case_id = cases[codename]["id"]
        status, _ = browser.post(
            f"/cases/{case_id}/reply/", {"text": reply}, form=f"/cases/{case_id}/"
        )
        assert status == 302
        replies[applicant.chat_id] = f"{ALIAS}: {reply}"  # signed with his alias
    for applicant in applicants:
        _wait_for(
            lambda a=applicant: replies[a.chat_id] in telegram.texts(a.chat_id),
            timeout=20,
            what="a reply never reached Telegram",
        )

    # 3. A journey whose first alarm is due in a few seconds; the job worker that runs
    # the periodic sweep dies first: the alarm's own task, in Redis, fires on the other.
    traveller = applicants[0]
    journey = cluster.stage("journey", codenames[0], "8")
    cluster.kill("worker-1")
    first_check_in = journey["check_ins"][0]
    _wait_for(
        lambda: cluster.sql(
            "SELECT missed_at IS NOT NULL FROM journeys_checkin WHERE id = %s", first_check_in
        )[0][0],
        timeout=45,
        what="the surviving job worker never raised the alarm",
    )
    schedule = cluster.stage("inspect")
    _wait_for(
        lambda: any(value.startswith("checkin:") for value, _ in traveller.buttons()),
        timeout=20,
        what="the journey's notice with its check-in button never came",
    )
    before = len(telegram.texts(traveller.chat_id))
    check_in = traveller.callback_update(traveller.buttons()[0][0])
    traveller.deliver(check_in)
    traveller.deliver(check_in)  # Telegram's redelivery of the same button press
    thanks = traveller.settle(before)

    # 4. What the coordinator sees, what Telegram got, what Redis holds.
    final = cluster.stage("inspect", *codenames)
    for applicant, codename in zip(applicants, codenames, strict=True):
        case = final["cases"][codename]
        for text in applicant.said:
            assert _count_in_timeline(case["timeline"], text) == 1, (codename, text)
        sends = [c for c in telegram.sent if c.method == "sendMessage"]
        to_chat = [c for c in sends if c.chat_id == applicant.chat_id]
        assert telegram.texts(applicant.chat_id).count(replies[applicant.chat_id]) == 1
        # Every queued row was sent exactly once: as many sends as rows, all rows sent.
        assert case["outbound"] == {"sent": len(to_chat)}, (case["outbound"], len(to_chat))
        assert case["audit"].get("case.replied") == 1
    assert telegram.too_many_requests == 0

    journey_case = final["cases"][codenames[0]]
    check_ins = journey_case["check_ins"]
    assert check_ins[0]["done"] and check_ins[0]["missed"] and not check_ins[0]["escalated"]
    assert not any(row["done"] for row in check_ins[1:])  # the second press did not count
    assert len([t for t in thanks if "check-in 1 of" in t]) == 1, thanks
    assert journey_case["audit"].get("journey.checked_in") == 1
    assert journey_case["audit"].get("journey.missed") == 1
    alarms = [b for k, b in journey_case["timeline"] if k == "journey" and b.startswith("ALARM")]
    assert len(alarms) == 1
    # Scheduled once: one escalation for the missed check-in, one watch for each later one.
    scheduled = Counter(
        (name.rsplit(".", 1)[-1], tuple(args)) for name, args in schedule["scheduled"]
    )
    assert scheduled[("check_in_escalation", (first_check_in,))] == 1, scheduled
    for later in journey["check_ins"][1:]:
        assert scheduled[("check_in_watch", (later,))] == 1, scheduled

    # S8 across the cluster: no message text, chat id or reply in any process's log.
    logs = cluster.logs()
    canaries = [str(chat) for chat in CHATS + LATECOMERS] + [t for a in applicants for t in a.said]
    canaries += list(replies.values())
    leaks = [(name, c) for name, text in logs.items() for c in canaries if c in text]
    assert not leaks, leaks
    assert time.monotonic() - started < 150, "the scale-out test must stay short"
    _report(applicants, started)


def _report(applicants: list[Applicant], started: float) -> None:
    redelivered = sum(a.redeliveries for a in applicants)
    print(
        f"scale-out: {len(applicants)} intakes, {redelivered} webhook redeliveries after the "
        f"kill, {time.monotonic() - started:.0f} s"
    )
