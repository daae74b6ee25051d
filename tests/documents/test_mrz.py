"""The MRZ parser: ICAO specimens, synthetic Russian passports, misreadings and garbage.

All people and numbers here are invented, except the ICAO 9303 specimen lines
(the fictional "ERIKSSON ANNA MARIA" of the fictional state Utopia), which
ICAO publishes as test vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.documents import mrz
from tropa.documents.mrz import MrzError, MrzResult, parse

TODAY = date(2010, 1, 1)  # before the specimens expire, so no "expired" note
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
DIGITS = frozenset("0123456789")
ALNUM = frozenset(ALPHABET)
FILLER = frozenset("<")


def value(char: str) -> int:
    """ICAO 9303 character values, written out independently of the parser."""
    return 0 if char == "<" else int(char, 36)


def cd(data: str) -> str:
    return str(sum(value(c) * (7, 3, 1)[i % 3] for i, c in enumerate(data)) % 10)


TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD2 = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)


def ru_internal(
    surname: str = "ТЕСТОВ",
    given: str = "ПРИМЕР ТЕСТОВИЧ",
    *,
    series: str = "0099",
    number: str = "000123",
    birth: str = "900115",
    issued: str = "150320",
    office: str = "990001",
    sex: str = "M",
) -> tuple[str, str]:
    """A synthetic internal-passport MRZ with correct check digits."""
    name = mrz.encode_russian_name(surname) + "<<" + mrz.encode_russian_name(given)
    line1 = ("PNRUS" + name).ljust(44, "<")
    document = series[:3] + number
    optional = series[3] + issued + office + "<"
    line2 = document + cd(document) + "RUS" + birth + cd(birth) + sex + "<" * 7
    line2 += optional + cd(optional)
    line2 += cd(line2[0:10] + line2[13:20] + line2[21:43])
    return line1, line2


def rus_foreign(number: str = "990000123", birth: str = "900115", expiry: str = "300101"):
    """A synthetic Russian foreign passport (TD3, nine-digit number, no personal number)."""
    line1 = "P<RUSTESTOV<<PRIMER".ljust(44, "<")
    line2 = number + cd(number) + "RUS" + birth + cd(birth) + "M" + expiry + cd(expiry)
    line2 += "<" * 14 + "<"
    line2 += cd(line2[0:10] + line2[13:20] + line2[21:43])
    return line1, line2


def text(lines: tuple[str, ...]) -> str:
    return "\n".join(lines)


# --------------------------------------------------------------------------
# ICAO specimens
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "fmt", "code", "number"),
    [
        (TD3, "TD3", "P", "L898902C3"),
        (TD2, "TD2", "I", "D23145890"),
        (TD1, "TD1", "I", "D23145890"),
    ],
)
def test_it_parses_the_icao_specimens_with_every_check_passing(lines, fmt, code, number):
    result = parse(text(lines), today=TODAY)

    assert result.format == fmt
    assert result.checks and all(result.checks.values())
    assert set(result.checks) >= {"document_number", "birth_date", "expiry_date", "composite"}
    assert result.document_code == code
    assert result.issuing_state == result.nationality == "UTO"
    assert (result.surname, result.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert result.document_number == number
    assert result.birth_date == date(1974, 8, 12)
    assert result.expiry_date == date(2012, 4, 15)
    assert result.sex == "F"
    assert result.corrections == ()
    assert result.surname_cyrillic is None


def test_the_td3_specimen_has_its_personal_number_checked():
    result = parse(text(TD3), today=TODAY)

    assert result.checks["optional_data"] is True
    assert result.optional_data == "ZE184226B"


def test_an_alphanumeric_document_number_gets_low_confidence_and_says_why():
    result = parse(text(TD3), today=TODAY)

    assert result.confidence == "low"
    assert any("document number may hold letters and digits" in p for p in result.problems)


def test_it_tolerates_spaces_lowercase_blank_lines_and_crlf():
    messy = "\r\n\r\n  " + TD3[0].lower()[:20] + " " + TD3[0][20:] + " \r\n\n\t" + TD3[1] + "\n\n"

    assert parse(messy, today=TODAY).document_number == "L898902C3"


def test_it_splits_an_mrz_pasted_as_one_line():
    assert parse(TD3[0] + TD3[1], today=TODAY).format == "TD3"
    assert parse("".join(TD1), today=TODAY).format == "TD1"


def test_check_digit_matches_the_specimen():
    assert mrz.check_digit("L898902C3") == 6
    assert mrz.check_digit("740812") == 2
    assert mrz.check_digit("<<<<<<") == 0


def test_an_expired_document_is_noted_without_lowering_confidence():
    result = parse(text(rus_foreign(expiry="200101")), today=date(2025, 6, 1))

    assert result.expiry_date == date(2020, 1, 1)
    assert result.confidence == "high"
    assert "The document expired on 2020-01-01." in result.problems


def test_a_long_td1_document_number_continues_in_the_optional_data():
    number = "D23145890734"  # twelve characters, invented
    line1 = ("I<UTO" + number[:9] + "<" + number[9:] + cd(number)).ljust(30, "<")
    line2 = "7408122F1204159UTO<<<<<<<<<<<"
    line2 += cd(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])

    result = parse(text((line1, line2, TD1[2])), today=TODAY)

    assert result.document_number == number
    assert all(result.checks.values())
    assert result.optional_data == ""


def test_a_visa_is_refused_with_a_clear_message():
    with pytest.raises(MrzError, match="visa"):
        parse("V" + TD3[0][1:] + "\n" + TD3[1])


# --------------------------------------------------------------------------
# Russian documents
# --------------------------------------------------------------------------


def test_it_parses_a_synthetic_internal_passport():
    result = parse(text(ru_internal()), today=date(2025, 1, 1))

    assert result.format == "RU_INTERNAL"
    assert (result.document_code, result.issuing_state, result.nationality) == ("PN", "RUS", "RUS")
    assert (result.surname, result.given_names) == ("TESTOV", "PRIMER TESTOVI3")
    assert (result.surname_cyrillic, result.given_names_cyrillic) == ("ТЕСТОВ", "ПРИМЕР ТЕСТОВИЧ")
    assert result.document_number == "0099000123"  # series 0099, number 000123
    assert result.birth_date == date(1990, 1, 15)
    assert result.expiry_date is None
    assert result.issue_date == date(2015, 3, 20)
    assert result.issuing_office == "990-001"
    assert result.sex == "M"
    assert all(result.checks.values())
    assert result.confidence == "high"
    assert result.problems == ()


def test_a_synthetic_russian_foreign_passport_reaches_high_confidence():
    result = parse(text(rus_foreign()), today=date(2025, 1, 1))

    assert result.format == "TD3"
    assert result.document_number == "990000123"
    assert result.confidence == "high"


RUSSIAN = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"


@pytest.mark.parametrize("letter", list(RUSSIAN))
def test_every_russian_letter_round_trips(letter):
    encoded = mrz.encode_russian_name(letter)

    assert len(encoded) == 1 and encoded in ALPHABET.replace("<", "")
    assert mrz.decode_russian_name(encoded) == letter
    assert mrz.encode_russian_name(letter.lower()) == encoded


def test_the_table_is_a_bijection_onto_the_mrz_letters_and_seven_digits():
    encoded = [mrz.encode_russian_name(letter) for letter in RUSSIAN]

    assert len(set(encoded)) == 33
    assert set(encoded) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ2346789")
    assert mrz.encode_russian_name("ЁЖЙЧШЩЪЬЭЮЯ") == "2JQ34WX9678"


def test_every_letter_survives_a_full_parse():
    result = parse(text(ru_internal(RUSSIAN[:16], RUSSIAN[16:])), today=date(2025, 1, 1))

    assert result.surname_cyrillic == RUSSIAN[:16]
    assert result.given_names_cyrillic == RUSSIAN[16:]
    assert result.confidence == "high"


@given(st.lists(st.text(alphabet=RUSSIAN, min_size=1, max_size=12), min_size=1, max_size=4))
def test_transliteration_round_trips(words):
    name = " ".join(words)

    assert mrz.decode_russian_name(mrz.encode_russian_name(name)) == name


def test_transliteration_refuses_what_it_cannot_write():
    with pytest.raises(MrzError, match="not a letter of the Russian alphabet"):
        mrz.encode_russian_name("Tестов")  # a Latin T
    with pytest.raises(MrzError, match="not used in Russian MRZ names"):
        mrz.decode_russian_name("TEST0V")


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def test_two_digit_years_put_births_in_the_past_and_expiry_up_to_20_years_ahead():
    today = date(2025, 6, 1)

    def dates(birth: str, expiry: str) -> tuple[date | None, date | None]:
        result = parse(text(rus_foreign(birth=birth, expiry=expiry)), today=today)
        return result.birth_date, result.expiry_date

    assert dates("250101", "450101") == (date(2025, 1, 1), date(2045, 1, 1))
    assert dates("260101", "460101") == (date(1926, 1, 1), date(1946, 1, 1))
    assert dates("000229", "300101")[0] == date(2000, 2, 29)


def test_an_impossible_date_is_a_problem_not_an_exception():
    result = parse(text(rus_foreign(birth="901332")), today=TODAY)

    assert result.birth_date is None
    assert result.confidence == "low"
    assert any("'901332' is not a valid date" in p for p in result.problems)


# --------------------------------------------------------------------------
# OCR look-alikes
# --------------------------------------------------------------------------


def corrupt(lines: tuple[str, ...], line: int, pos: int, char: str) -> tuple[str, ...]:
    changed = list(lines)
    changed[line] = changed[line][:pos] + char + changed[line][pos + 1 :]
    return tuple(changed)


def test_o_and_i_in_dates_are_read_as_digits_and_reported():
    lines = corrupt(corrupt(TD3, 1, 15, "O"), 1, 17, "I")  # 740812 → 74O8I2
    result = parse(text(lines), today=TODAY)

    assert result.birth_date == date(1974, 8, 12)
    assert result.checks["birth_date"]
    assert result.corrections == (
        "birth date: read 'O' as '0' at line 2, position 16; the check digit confirms it",
        "birth date: read 'I' as '1' at line 2, position 18; the check digit confirms it",
    )


def test_o_and_i_in_a_russian_document_number_are_read_as_digits():
    line1, line2 = ru_internal(series="1010", number="000101")
    misread = line2.replace("101000101", "I0I000IOI", 1)

    result = parse(line1 + "\n" + misread, today=date(2025, 1, 1))

    assert result.document_number == "1010000101"
    assert len(result.corrections) == 5
    assert all("the check digit confirms it" in c for c in result.corrections)
    assert result.confidence == "high"


def test_a_digit_in_a_name_is_read_as_its_letter():
    result = parse(text(corrupt(TD3, 0, 5, "3")), today=TODAY)  # ERIKSSON → 3RIKSSON
    assert result.confidence == "low"
    assert any("cannot appear there" in p for p in result.problems)

    result = parse(text(corrupt(TD3, 0, 9, "5")), today=TODAY)  # ERIK5SON
    assert result.surname == "ERIKSSON"
    assert result.corrections == (
        "name: read '5' as 'S' at line 1, position 10; no check digit covers it",
    )


def test_a_look_alike_in_an_alphanumeric_number_is_repaired_only_by_its_check_digit():
    result = parse(text(corrupt(TD3, 1, 5, "O")), today=TODAY)  # L8989O2C3

    assert result.document_number == "L898902C3"
    assert all(result.checks.values())
    assert result.corrections == (
        "document number: read 'O' as '0' at line 2, position 6, the only look-alike "
        "that makes the check digits match",
    )
    assert result.confidence == "low"  # still alphanumeric


def test_a_k_in_a_filler_only_position_is_read_as_a_filler():
    line1, line2 = ru_internal()
    result = parse(line1 + "\n" + line2[:23] + "K" + line2[24:], today=date(2025, 1, 1))

    assert result.expiry_date is None
    assert result.corrections == (
        "expiry date: read 'K' as '<' at line 2, position 24; the check digit confirms it",
    )


# --------------------------------------------------------------------------
# What the 7-3-1 check digits can and cannot catch
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Protected:
    """A checked field: where it is and which characters its type admits."""

    name: str
    line: int
    start: int
    end: int
    allowed: frozenset[str]


DOCUMENTS: dict[str, tuple[tuple[str, ...], list[Protected]]] = {
    "TD3 specimen": (
        TD3,
        [
            Protected("document number", 1, 0, 9, ALNUM),
            Protected("birth date", 1, 13, 19, DIGITS),
            Protected("expiry date", 1, 21, 27, DIGITS),
            Protected("personal number", 1, 28, 42, ALNUM),
        ],
    ),
    "TD2 specimen": (
        TD2,
        [
            Protected("document number", 1, 0, 9, ALNUM),
            Protected("birth date", 1, 13, 19, DIGITS),
            Protected("expiry date", 1, 21, 27, DIGITS),
            Protected("optional data", 1, 28, 35, ALNUM),
        ],
    ),
    "TD1 specimen": (
        TD1,
        [
            Protected("document number", 0, 5, 14, ALNUM),
            Protected("optional data", 0, 15, 30, ALNUM),
            Protected("birth date", 1, 0, 6, DIGITS),
            Protected("expiry date", 1, 8, 14, DIGITS),
            Protected("optional data 2", 1, 18, 29, ALNUM),
        ],
    ),
    "RU internal": (
        ru_internal(series="4501", number="600789", birth="851231", issued="051207"),
        [
            Protected("series and number", 1, 0, 9, DIGITS),
            Protected("birth date", 1, 13, 19, DIGITS),
            Protected("expiry (fillers)", 1, 21, 27, FILLER),
            Protected("series digit, issue date, office", 1, 28, 41, DIGITS),
            Protected("optional filler", 1, 41, 42, FILLER),
        ],
    ),
    "RUS foreign": (
        rus_foreign(number="750123456", birth="880606", expiry="310709"),
        [
            Protected("document number", 1, 0, 9, DIGITS),
            Protected("birth date", 1, 13, 19, DIGITS),
            Protected("expiry date", 1, 21, 27, DIGITS),
            Protected("personal number", 1, 28, 42, ALNUM),
        ],
    ),
}


def corruptions(undetectable: bool) -> list[tuple[str, Protected, int, str]]:
    """Every single substitution inside a checked field, split by what 7-3-1 can see.

    A substitution c -> c' changes the weighted sum by (v(c') - v(c)) * w; the
    weights 7, 3, 1 are coprime to 10, so it is invisible exactly when
    v(c') = v(c) mod 10.
    """
    found = []
    for doc, (lines, fields) in DOCUMENTS.items():
        for f in fields:
            for pos in range(f.start, f.end):
                char = lines[f.line][pos]
                for other in ALPHABET:
                    if other == char:
                        continue
                    same = (value(other) - value(char)) % 10 == 0
                    if same == undetectable:
                        found.append((doc, f, pos, other))
    return found


UNDETECTABLE = corruptions(undetectable=True)
DETECTABLE = corruptions(undetectable=False)


def test_the_undetectable_substitutions_are_the_equal_values_mod_10():
    pairs = {(lines_char, other) for lines_char, other in _pairs(UNDETECTABLE)}

    assert ("6", "G") in pairs and ("0", "<") in pairs and ("C", "M") in pairs
    assert all((value(a) - value(b)) % 10 == 0 for a, b in pairs)
    assert not any((value(a) - value(b)) % 10 == 0 for a, b in _pairs(DETECTABLE))
    # Digits never shadow each other: in a digits-only field every digit swap is caught.
    assert not any(a in DIGITS and b in DIGITS for a, b in pairs)


def _pairs(cases):
    for doc, f, pos, other in cases:
        yield DOCUMENTS[doc][0][f.line][pos], other


def run(doc: str, f: Protected, pos: int, other: str) -> tuple[tuple[str, ...], MrzResult]:
    lines = DOCUMENTS[doc][0]
    return lines, parse(text(corrupt(lines, f.line, pos, other)), today=date(2025, 1, 1))


def never_wrong_with_high_confidence(lines: tuple[str, ...], result: MrzResult) -> bool:
    """Either the parser put the original back (and said so) or it says "low"."""
    return (result.lines == lines and bool(result.corrections)) or result.confidence == "low"


@pytest.mark.parametrize("doc", list(DOCUMENTS))
def test_every_undetectable_substitution_is_low_confidence_or_caught_by_type(doc):
    cases = [case for case in UNDETECTABLE if case[0] == doc]
    assert cases
    for _, f, pos, other in cases:
        lines, result = run(doc, f, pos, other)
        where = f"{doc}: {f.name} position {pos + 1} {lines[f.line][pos]!r} -> {other!r}"
        if other in f.allowed:
            # Both readings are valid for the field and pass every check:
            # the parser cannot know, so it must say so.
            assert result.confidence == "low", where
        else:
            assert result.corrections or result.confidence == "low", where
        assert never_wrong_with_high_confidence(lines, result), where


@pytest.mark.parametrize("doc", list(DOCUMENTS))
def test_every_detectable_substitution_is_caught(doc):
    for _, f, pos, other in (case for case in DETECTABLE if case[0] == doc):
        lines, result = run(doc, f, pos, other)
        where = f"{doc}: {f.name} position {pos + 1} {lines[f.line][pos]!r} -> {other!r}"
        assert not all(result.checks.values()) or result.corrections, where
        assert never_wrong_with_high_confidence(lines, result), where


def test_the_russian_documents_are_high_confidence_before_corruption():
    for doc in ("RU internal", "RUS foreign"):
        assert parse(text(DOCUMENTS[doc][0]), today=date(2025, 1, 1)).confidence == "high"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DETECTABLE + UNDETECTABLE))
def test_a_single_misread_is_never_a_confident_wrong_answer(case):
    doc, f, pos, other = case
    lines, result = run(doc, f, pos, other)

    assert never_wrong_with_high_confidence(lines, result)


# --------------------------------------------------------------------------
# Not an MRZ at all
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("garbage", "message"),
    [
        ("", "empty"),
        ("   \n\n\t ", "empty"),
        ("hello world, this is not a passport", "has ','"),
        ("helloworld", "2 lines of 44"),
        (TD3[0] + "\n" + TD3[1][:-1], "2 line(s) of 44, 43 characters"),
        (TD3[0] + "\n" + TD3[1] + "\n" + TD3[1], "3 line(s)"),
        ("x" * 10_000, "10,000 characters long"),
        (TD3[0][:10] + "\x00" + TD3[0][11:] + "\n" + TD3[1], "U+0000"),
        (TD3[0][:10] + "\u202e" + TD3[0][11:] + "\n" + TD3[1], "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        (TD3[0] + "\n" + TD3[1][:5] + "\u2067" + TD3[1][6:], "U+2067"),
        (TD3[0].replace("<", "«") + "\n" + TD3[1], "U+00AB"),
        (TD3[0] + "\x0b" + TD3[1], "U+000B"),
    ],
)
def test_garbage_is_refused_with_a_clear_message(garbage, message):
    with pytest.raises(MrzError) as refused:
        parse(garbage)

    assert message in str(refused.value)
    assert not any(ord(c) < 32 or 0x202A <= ord(c) <= 0x2069 for c in str(refused.value))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_result_or_mrz_error(garbage):
    try:
        result = parse(garbage)
    except MrzError as error:
        assert str(error)
    else:
        assert result.confidence in ("high", "low")


MRZ_SHAPED = st.sampled_from([(44, 44), (36, 36), (30, 30, 30)]).flatmap(
    lambda shape: st.tuples(*(st.text(alphabet=ALPHABET, min_size=n, max_size=n) for n in shape))
)


@settings(max_examples=300, deadline=None)
@given(MRZ_SHAPED)
def test_mrz_shaped_nonsense_is_parsed_without_crashing(lines):
    try:
        result = parse(text(lines))
    except MrzError as error:
        assert "visa" in str(error)
    else:
        assert result.confidence in ("high", "low")
        assert len(result.lines) == len(lines)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["PN", "P<", "I<"]),
    st.text(alphabet=ALPHABET, min_size=42, max_size=42),
    st.text(alphabet=ALPHABET, min_size=44, max_size=44),
)
def test_internal_passport_shaped_nonsense_is_parsed_without_crashing(code, rest, line2):
    result = parse(code + "RUS" + rest[3:] + "\n" + line2)

    assert result.format in ("RU_INTERNAL", "TD3")
