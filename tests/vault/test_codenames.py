import re

from tropa.cases.codenames import codename_generate


def test_codenames_are_a_word_and_a_number() -> None:
    assert re.fullmatch(r"[A-Z][a-z]+-\d{2}", codename_generate())


def test_later_attempts_widen_the_space() -> None:
    assert re.fullmatch(r"[A-Z][a-z]+-\d{4}", codename_generate(attempt=6))
