"""P10: the surge simulation. In small, end to end: a surge through the real
Telegram worker and the real web chat, answered by simulated caseworkers, with
every message accounted for. And the arithmetic its report rests on."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tropa.bench.runner import Result
from tropa.bench.surge_bench import Prompts, arrival_times, bench_p10, kaplan_meier

Surge = tuple[dict[str, Result], dict[str, Any]]


# ------------------------------------------------------------ the arithmetic


def test_arrivals_ramp_up_to_a_peak_within_the_window() -> None:
    times = arrival_times(2_000, 100.0, random.Random(1))
    assert len(times) == 2_000
    assert times == sorted(times)
    assert 0 <= times[0] and times[-1] <= 100.0
    first_fifth = sum(1 for t in times if t < 20)
    peak_fifth = sum(1 for t in times if 40 <= t < 60)
    last_fifth = sum(1 for t in times if t >= 80)
    assert peak_fifth > 2 * first_fifth
    assert peak_fifth > last_fifth > first_fifth


def test_first_reply_median_counts_unanswered_cases_as_still_waiting() -> None:
    answered = [(1.0, True), (2.0, True), (3.0, True), (4.0, True)]
    assert kaplan_meier(answered, 0.5) == 2.0
    # One case still waiting after 2 s: the median is later than the naive 2.5 s.
    censored = [(1.0, True), (2.0, False), (3.0, True), (4.0, True)]
    assert kaplan_meier(censored, 0.5) == 3.0
    assert kaplan_meier(censored, 0.95) == 4.0


def test_no_median_when_fewer_than_half_were_answered() -> None:
    assert kaplan_meier([(5.0, True), (10.0, False), (10.0, False)], 0.5) is None
    assert kaplan_meier([], 0.5) is None


def test_simulated_applicants_read_their_codename_from_the_real_flow() -> None:
    from tropa.intake.flows import default_flow

    prompts = Prompts.load()
    flow = default_flow()
    for language in flow.languages:
        done = flow.text("done.text", language).replace("{codename}", "Birch-42")
        assert prompts.codename_in(done) == "Birch-42"
        assert prompts.codename_in(flow.text("welcome.text", language)) is None
        assert flow.text("description.prompt", language) in prompts.text


# ------------------------------------------------------------ the surge


@pytest.fixture(scope="module")
def surge(tmp_path_factory: pytest.TempPathFactory) -> Surge:
    path = Path(tmp_path_factory.mktemp("surge")) / "surge.json"
    rows = bench_p10(
        applicants=150, seconds=20, caseworkers=10, pace=0.3, settle=150, report_path=path
    )
    return {row.id: row for row in rows}, json.loads(path.read_text())


@pytest.mark.server
def test_a_small_surge_has_no_errors_and_loses_no_message(surge: Surge) -> None:
    rows, report = surge
    assert report["errors"] == 0, report["error_samples"]
    assert report["checked"]["lost"] == 0, report["checked"]
    assert report["checked"]["duplicated"] == 0, report["checked"]
    assert report["http"]["errors"] == {}
    assert report["exit_codes"] == {"bot": 0, "web": 0}
    assert rows["P10"].verdict == "PASS"
    assert rows["P10-errors"].verdict == "PASS"


@pytest.mark.server
def test_applicants_came_through_both_channels_and_every_one_was_checked(
    surge: Surge,
) -> None:
    _, report = surge
    channels = report["applicants"]["by_channel"]
    assert report["applicants"]["total"] == 150
    assert set(channels) == {"telegram", "web"}
    completed = sum(figures.get("completed", 0) for figures in channels.values())
    assert report["cases"]["created"] >= completed > 0
    # Each applicant who finished intake sent at least a dozen messages.
    assert report["inbound_messages"] >= 12 * completed


@pytest.mark.server
def test_first_human_reply_median_is_reported_and_replies_reach_applicants(
    surge: Surge,
) -> None:
    rows, report = surge
    median = report["cases"]["first_reply_median_s"]
    assert median is not None and median > 0
    assert rows["P10"].value == pytest.approx(median)
    assert report["cases"]["first_reply_p95_s"] >= median
    assert report["applicant_side_first_reply"]["n"] > 0


@pytest.mark.server
def test_the_outbox_kept_telegrams_ceiling(surge: Surge) -> None:
    rows, report = surge
    outbox = report["outbox"]
    # The stand-in judges as Telegram does (429 beyond 30/s overall or 1/s per chat).
    assert outbox["too_many_requests"] == 0, outbox["too_many_requests_by_limit"]
    assert 0 < outbox["peak_1s"] and outbox["sent"] > 0
    assert rows["P10-outbox"].verdict == "PASS"
