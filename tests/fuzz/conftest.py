"""Budgets for the fuzz suite (S10): a fixed, small one in CI, a large one in `make fuzz`.

Two Hypothesis profiles. `fuzz-ci` (the default) gives each test the number of
examples it names, so the whole of tests/fuzz stays near a minute on SQLite.
`fuzz-long` is chosen by setting TROPA_FUZZ_EXAMPLES (as `make fuzz` does): every
test then runs that many random examples. The profile is applied per test through
`fuzz_settings`, never loaded globally, so collecting this folder does not change
the budget of any other test in the suite.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tropa.env import env_int

_HEALTH = [
    # Django fixtures (the organisation, a client) are set up once per test, and
    # each example uses fresh chat ids, so sharing them between examples is intended.
    HealthCheck.function_scoped_fixture,
    # Hostile inputs are big and slow on purpose (10 MB messages, decompression bombs).
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]
# Derandomized: CI replays the same examples on every run, so a red build means a
# change broke something, never that this run happened to draw a new input. The
# long run draws at random and keeps what fails in .hypothesis/ to replay it.
settings.register_profile(
    "fuzz-ci", deadline=None, suppress_health_check=_HEALTH, print_blob=True, derandomize=True
)
settings.register_profile(
    "fuzz-long",
    deadline=None,
    suppress_health_check=_HEALTH,
    print_blob=True,
    max_examples=env_int("TROPA_FUZZ_EXAMPLES", 2000, minimum=1),
)
LONG = bool(os.environ.get("TROPA_FUZZ_EXAMPLES"))
PROFILE = "fuzz-long" if LONG else "fuzz-ci"


def fuzz_settings(examples: int) -> settings:
    """This test's settings: `examples` in CI, TROPA_FUZZ_EXAMPLES in the long run."""
    profile = settings.get_profile(PROFILE)
    return settings(profile, max_examples=profile.max_examples if LONG else examples)
