"""Parse and check machine-readable zones: ICAO 9303 TD1, TD2, TD3, Russian internal passport.

Pure Python, no Django, deterministic given `today`. The parser reads the
lines an OCR step (or a person) produced; it never sees an image and never
builds an MRZ. Caseworkers get typed facts plus an honest account of how far
the check digits vouch for them.

Check digits
------------
ICAO 9303 part 3: each character has a value ('0'-'9' → 0-9, 'A'-'Z' → 10-35,
'<' → 0), the values are weighted 7, 3, 1, 7, 3, 1, … and the sum modulo 10
is the check digit. Every format here checks the document number, the birth
date and the expiry date; TD3 and the internal passport also check the
optional data (personal number), and a composite digit covers all of them
(TD1 and TD2: the optional data too).

What the check digits cannot see
--------------------------------
A single substitution c → c' changes the weighted sum by
(value(c') - value(c)) * w with w in {7, 3, 1}. All three weights are
coprime to 10, so the substitution goes unnoticed exactly when the two values
are equal modulo 10. The classes of characters with equal values mod 10 are

    0 < A K U · 1 B L V · 2 C M W · 3 D N X · 4 E O Y
    5 F P Z · 6 G Q · 7 H R · 8 I S · 9 J T

Every class holds one digit and at least two letters, so:

* a field that may only hold digits (dates; the Russian document numbers)
  is fully protected: a different digit always changes the check, and a
  letter is impossible there, so the parser notices it by type;
* a field that may hold letters and digits (most document numbers, personal
  numbers, optional data) cannot be protected: 'C' and 'M' (or '0' and 'A')
  give the same check digit, and both are valid.

Confidence is therefore "low" when a check fails, when a field holds a
character its type forbids, or when a checked field's type admits another
character with the same value mod 10 at some position that would leave every
check passing. It is "high" only when the check digits, together with the
field types, leave exactly one reading. No format checks the names, the
nationality or the sex, so confidence says nothing about them.

OCR look-alikes
---------------
O/0, I/1, B/8, S/5, Z/2 and G/6 are corrected by field type: a letter in a
field of digits becomes its digit look-alike, a digit in a field of letters
becomes its letter look-alike, and 'K' in a position that may only hold '<'
becomes '<' (OCR engines often read the filler as 'K'). In an alphanumeric
field with a failing check digit the parser tries each single look-alike swap
and keeps it only when exactly one makes the field's check digit and the
composite pass. Every correction is reported, with whether a check digit
confirms it. G/6 (and '<'/K) have equal values mod 10, so no check digit can
confirm those swaps; only the field type can.

Russian internal passport (document code "PN", state "RUS")
------------------------------------------------------------
Two lines of 44 laid out like TD3. Line 1 is "PNRUS" then surname, given
name and patronymic in the "modernised Clair" table (RU_TO_MRZ: letters and
seven digits, e.g. Ё → 2, Й → Q, Ч → 3). Line 2: the first three digits of
the series and the six-digit number (checked), nationality, birth date
(checked), sex, an expiry date of fillers (validity depends on age, so the
MRZ gives none) with its check digit, 14 characters of optional data
(checked), the composite digit.

Verified from the interior ministry's published rules (2011 order, as
reproduced on docs.cntd.ru; later orders keep the layout per secondary
sources): the positions, the 7-3-1 weights, the fields each check digit
follows. From secondary sources (explanatory articles and open-source
parsers, which agree): the optional data is the last digit of the series,
the issue date (YYMMDD), the six-digit issuing-office code and a filler;
the full transliteration table (an article confirms Ё → 2 and Й → Q; no
official copy of the table was available). Assumed: the composite covers
the TD3 positions (1-10, 14-20, 22-43 of line 2); the expiry check digit is
'<' (accepted as '0' too).

Russian foreign passports (TD3, document code "P…", state "RUS") are parsed as
TD3 whose document number is nine digits (two of series, seven of number),
so they can reach high confidence; an assumption based on the published
number format.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Format = Literal["TD1", "TD2", "TD3", "RU_INTERNAL"]
Confidence = Literal["high", "low"]
Sex = Literal["M", "F", "X", ""]

FILLER = "<"
DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALPHABET = DIGITS + LETTERS + FILLER
WEIGHTS = (7, 3, 1)
# An MRZ has at most 90 characters; this leaves room for spaces and line
# breaks while refusing a pasted page before doing any work on it.
MAX_INPUT_CHARS = 1000

# Character classes a position may hold ("field types").
ALPHA = frozenset(LETTERS + FILLER)
NUMERIC = frozenset(DIGITS)
ALNUM = frozenset(ALPHABET)
FILLER_ONLY = frozenset(FILLER)
CHECK = frozenset(DIGITS + FILLER)
SEX_CHARS = frozenset("MFX<")

# Modernised Clair: the Russian internal passport's table, Cyrillic → MRZ.
RU_TO_MRZ: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "2",
    "Ж": "J", "З": "Z", "И": "I", "Й": "Q", "К": "K", "Л": "L", "М": "M",
    "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U",
    "Ф": "F", "Х": "H", "Ц": "C", "Ч": "3", "Ш": "4", "Щ": "W", "Ъ": "X",
    "Ы": "Y", "Ь": "9", "Э": "6", "Ю": "7", "Я": "8",
}  # fmt: skip
MRZ_TO_RU: dict[str, str] = {mrz: cyr for cyr, mrz in RU_TO_MRZ.items()}
RU_NAME = frozenset("".join(RU_TO_MRZ.values()) + FILLER)

TO_DIGIT = {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
TO_LETTER = {digit: letter for letter, digit in TO_DIGIT.items()}
TO_FILLER = {"K": FILLER}
LOOK_ALIKE = {**TO_DIGIT, **TO_LETTER}


class MrzError(ValueError):
    """The text is not a machine-readable zone this parser understands."""


@dataclass(frozen=True)
class MrzResult:
    """What an MRZ says, and how far its check digits vouch for it.

    Names are given in MRZ form with '<' read as a space ("ANNA MARIA"); for
    the Russian internal passport the Cyrillic names are decoded too and
    `given_names` holds the given name and patronymic. Dates are None when
    absent (the internal passport has no expiry in its MRZ) or unreadable.
    `document_number` of the internal passport is the full series and number
    (ten digits); its issue date and issuing-office code ("123-456") come
    from the optional data. `problems` lists, in plain English, every reason
    for low confidence, plus facts worth a look (an expired document).
    `lines` are the lines as read, after the corrections.
    """

    format: Format
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    surname_cyrillic: str | None
    given_names_cyrillic: str | None
    document_number: str
    nationality: str
    birth_date: date | None
    sex: Sex
    expiry_date: date | None
    optional_data: str
    optional_data_2: str
    issue_date: date | None
    issuing_office: str | None
    checks: dict[str, bool]
    corrections: tuple[str, ...]
    confidence: Confidence
    problems: tuple[str, ...]
    lines: tuple[str, ...] = field(repr=False)


# --------------------------------------------------------------------------
# Check digits and transliteration
# --------------------------------------------------------------------------


def char_value(char: str) -> int:
    """The ICAO 9303 value of one MRZ character."""
    if len(char) == 1 and "0" <= char <= "9":
        return ord(char) - ord("0")
    if len(char) == 1 and "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise MrzError(f"{_describe(char)} is not an MRZ character")


def check_digit(data: str) -> int:
    """The 7-3-1 check digit of `data`."""
    return sum(char_value(c) * WEIGHTS[i % 3] for i, c in enumerate(data)) % 10


def encode_russian_name(cyrillic: str) -> str:
    """Write a Russian name in the internal passport's MRZ alphabet.

    Spaces and hyphens become one '<' (the rules join the parts of double
    names with a filler, so a hyphen does not survive a round trip).
    """
    out: list[str] = []
    for char in cyrillic.strip():
        upper = char.upper()
        if upper in RU_TO_MRZ:
            out.append(RU_TO_MRZ[upper])
        elif char in " -":
            if out and out[-1] != FILLER:
                out.append(FILLER)
        else:
            raise MrzError(f"{_describe(char)} is not a letter of the Russian alphabet")
    return "".join(out)


def decode_russian_name(mrz_name: str) -> str:
    """Read a name written in the internal passport's MRZ alphabet back in Cyrillic.

    Fillers (and spaces) become single spaces ("TESTOV<<PRIMER" → "ТЕСТОВ
    ПРИМЕР"); use `parse` to tell the surname from the given names.
    """
    words: list[str] = []
    for part in mrz_name.strip().upper().replace(" ", FILLER).split(FILLER):
        try:
            word = "".join(MRZ_TO_RU[c] for c in part)
        except KeyError as missing:
            raise MrzError(
                f"{_describe(str(missing.args[0]))} is not used in Russian MRZ names"
            ) from None
        if word:
            words.append(word)
    return " ".join(words)


def _describe(char: str) -> str:
    if len(char) == 1 and " " < char <= "~":
        return f"'{char}'"
    if len(char) != 1:
        return "an empty character" if not char else f"'{char[:10]}'"
    name = unicodedata.name(char, "")
    return f"the character U+{ord(char):04X}" + (f" ({name})" if name else "")


# --------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    key: str
    label: str
    line: int
    start: int
    end: int
    allowed: frozenset[str]

    def positions(self) -> Iterable[tuple[int, int]]:
        return ((self.line, p) for p in range(self.start, self.end))


Span = tuple[int, int, int]  # line, start, end


@dataclass(frozen=True)
class _Check:
    key: str
    label: str
    parts: tuple[Span, ...]
    digit: tuple[int, int]


_SHAPES: dict[tuple[int, ...], str] = {(30, 30, 30): "TD1", (36, 36): "TD2", (44, 44): "TD3"}


def _td3_fields(fmt: Format, numeric_number: bool) -> list[_Field]:
    ru = fmt == "RU_INTERNAL"
    fields = [
        _Field("document_code", "document code", 0, 0, 2, ALPHA),
        _Field("issuing_state", "issuing state", 0, 2, 5, ALPHA),
        _Field("name", "name", 0, 5, 44, RU_NAME if ru else ALPHA),
        _Field("document_number", "document number", 1, 0, 9,
               NUMERIC if ru or numeric_number else ALNUM),
        _Field("document_number_check", "document number check digit", 1, 9, 10, CHECK),
        _Field("nationality", "nationality", 1, 10, 13, ALPHA),
        _Field("birth_date", "birth date", 1, 13, 19, NUMERIC),
        _Field("birth_date_check", "birth date check digit", 1, 19, 20, CHECK),
        _Field("sex", "sex", 1, 20, 21, SEX_CHARS),
        _Field("expiry_date", "expiry date", 1, 21, 27, FILLER_ONLY if ru else NUMERIC),
        _Field("expiry_date_check", "expiry date check digit", 1, 27, 28, CHECK),
        _Field("optional_data_check", "optional data check digit", 1, 42, 43, CHECK),
        _Field("composite_check", "composite check digit", 1, 43, 44, CHECK),
    ]  # fmt: skip
    if ru:
        fields += [
            _Field("optional_data", "optional data", 1, 28, 41, NUMERIC),
            _Field("optional_filler", "optional data", 1, 41, 42, FILLER_ONLY),
        ]
    else:
        fields.append(_Field("optional_data", "personal number", 1, 28, 42, ALNUM))
    return fields


def _fields(fmt: Format, numeric_number: bool) -> list[_Field]:
    if fmt == "TD1":
        return [
            _Field("document_code", "document code", 0, 0, 2, ALPHA),
            _Field("issuing_state", "issuing state", 0, 2, 5, ALPHA),
            _Field("document_number", "document number", 0, 5, 14, ALNUM),
            _Field("document_number_check", "document number check digit", 0, 14, 15, CHECK),
            _Field("optional_data", "optional data", 0, 15, 30, ALNUM),
            _Field("birth_date", "birth date", 1, 0, 6, NUMERIC),
            _Field("birth_date_check", "birth date check digit", 1, 6, 7, CHECK),
            _Field("sex", "sex", 1, 7, 8, SEX_CHARS),
            _Field("expiry_date", "expiry date", 1, 8, 14, NUMERIC),
            _Field("expiry_date_check", "expiry date check digit", 1, 14, 15, CHECK),
            _Field("nationality", "nationality", 1, 15, 18, ALPHA),
            _Field("optional_data_2", "optional data", 1, 18, 29, ALNUM),
            _Field("composite_check", "composite check digit", 1, 29, 30, CHECK),
            _Field("name", "name", 2, 0, 30, ALPHA),
        ]
    if fmt == "TD2":
        return [
            _Field("document_code", "document code", 0, 0, 2, ALPHA),
            _Field("issuing_state", "issuing state", 0, 2, 5, ALPHA),
            _Field("name", "name", 0, 5, 36, ALPHA),
            _Field("document_number", "document number", 1, 0, 9, ALNUM),
            _Field("document_number_check", "document number check digit", 1, 9, 10, CHECK),
            _Field("nationality", "nationality", 1, 10, 13, ALPHA),
            _Field("birth_date", "birth date", 1, 13, 19, NUMERIC),
            _Field("birth_date_check", "birth date check digit", 1, 19, 20, CHECK),
            _Field("sex", "sex", 1, 20, 21, SEX_CHARS),
            _Field("expiry_date", "expiry date", 1, 21, 27, NUMERIC),
            _Field("expiry_date_check", "expiry date check digit", 1, 27, 28, CHECK),
            _Field("optional_data", "optional data", 1, 28, 35, ALNUM),
            _Field("composite_check", "composite check digit", 1, 35, 36, CHECK),
        ]
    return _td3_fields(fmt, numeric_number)


Grid = list[list[str]]


def _long_number(grid: Grid, number: Span, digit: tuple[int, int], optional: Span) -> Span | None:
    """The extension of a document number longer than nine characters (TD1, TD2).

    ICAO 9303 puts '<' in the check digit position and continues the number
    in the optional data, followed by its check digit and a filler.
    """
    line, start, end = optional
    if grid[digit[0]][digit[1]] != FILLER or grid[line][start] == FILLER:
        return None
    stop = start
    while stop < end and grid[line][stop] != FILLER:
        stop += 1
    return (line, start, stop)


def _checks(fmt: Format, grid: Grid) -> list[_Check]:
    if fmt == "TD1":
        number: tuple[Span, ...] = ((0, 5, 14),)
        digit = (0, 14)
        extension = _long_number(grid, (0, 5, 14), (0, 14), (0, 15, 30))
        if extension is not None and extension[2] - extension[1] >= 2:
            number = ((0, 5, 14), (0, extension[1], extension[2] - 1))
            digit = (0, extension[2] - 1)
        return [
            _Check("document_number", "document number", number, digit),
            _Check("birth_date", "birth date", ((1, 0, 6),), (1, 6)),
            _Check("expiry_date", "expiry date", ((1, 8, 14),), (1, 14)),
            _Check("composite", "composite", ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)),
                   (1, 29)),
        ]  # fmt: skip
    if fmt == "TD2":
        number = ((1, 0, 9),)
        digit = (1, 9)
        extension = _long_number(grid, (1, 0, 9), (1, 9), (1, 28, 35))
        if extension is not None and extension[2] - extension[1] >= 2:
            number = ((1, 0, 9), (1, extension[1], extension[2] - 1))
            digit = (1, extension[2] - 1)
        return [
            _Check("document_number", "document number", number, digit),
            _Check("birth_date", "birth date", ((1, 13, 19),), (1, 19)),
            _Check("expiry_date", "expiry date", ((1, 21, 27),), (1, 27)),
            _Check("composite", "composite", ((1, 0, 10), (1, 13, 20), (1, 21, 35)), (1, 35)),
        ]
    return [
        _Check("document_number", "document number", ((1, 0, 9),), (1, 9)),
        _Check("birth_date", "birth date", ((1, 13, 19),), (1, 19)),
        _Check("expiry_date", "expiry date", ((1, 21, 27),), (1, 27)),
        _Check("optional_data", "optional data", ((1, 28, 42),), (1, 42)),
        _Check("composite", "composite", ((1, 0, 10), (1, 13, 20), (1, 21, 43)), (1, 43)),
    ]


def _text(grid: Grid, parts: Iterable[Span]) -> str:
    return "".join("".join(grid[line][start:end]) for line, start, end in parts)


def _passes(grid: Grid, check: _Check) -> bool:
    data = _text(grid, check.parts)
    digit = grid[check.digit[0]][check.digit[1]]
    if digit == FILLER:
        # A filler check digit is only allowed for an empty field.
        return set(data) <= FILLER_ONLY
    if digit not in NUMERIC:
        return False
    return int(digit) == check_digit(data)


def _evaluate(fmt: Format, grid: Grid) -> dict[str, bool]:
    return {c.key: _passes(grid, c) for c in _checks(fmt, grid)}


# --------------------------------------------------------------------------
# Reading the text
# --------------------------------------------------------------------------

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", LETTERS)


def _lines(text: str) -> list[str]:
    if not isinstance(text, str):
        raise MrzError("The MRZ must be given as text.")
    if len(text) > MAX_INPUT_CHARS:
        raise MrzError(
            f"The text is {len(text):,} characters long; an MRZ has at most 90 characters."
        )
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.replace(" ", "").replace("\t", "").translate(_ASCII_UPPER)
        if line:
            lines.append(line)
    if not lines:
        raise MrzError("The text is empty; an MRZ has two or three lines.")
    for number, line in enumerate(lines, 1):
        for position, char in enumerate(line, 1):
            if char not in ALPHABET:
                raise MrzError(
                    f"Line {number} has {_describe(char)} at position {position}; an MRZ "
                    "holds only the letters A-Z, the digits 0-9 and '<'."
                )
    if len(lines) == 1 and len(lines[0]) in (90, 72, 88):
        # Pasted as one line: split it by the only shape with that length.
        width = {90: 30, 72: 36, 88: 44}[len(lines[0])]
        lines = [lines[0][i : i + width] for i in range(0, len(lines[0]), width)]
    if tuple(len(line) for line in lines) not in _SHAPES:
        got = ", ".join(str(len(line)) for line in lines[:5]) + (", …" if len(lines) > 5 else "")
        raise MrzError(
            "An MRZ has 2 lines of 44 characters (passport), 2 lines of 36 or 3 lines of "
            f"30 (identity cards); this text has {len(lines)} line(s) of {got} characters."
        )
    return lines


def _detect(grid: Grid) -> Format:
    shape = _SHAPES[tuple(len(line) for line in grid)]
    code = "".join(TO_LETTER.get(c, c) for c in grid[0][0:2])
    if code[0] == "V":
        raise MrzError(
            "This is a visa's MRZ (document code V), which is not supported; "
            "send the passport's data page."
        )
    if shape == "TD3" and code == "PN":
        state = "".join(TO_LETTER.get(c, c) for c in grid[0][2:5])
        if state == "RUS":
            return "RU_INTERNAL"
    return "TD1" if shape == "TD1" else "TD2" if shape == "TD2" else "TD3"


# --------------------------------------------------------------------------
# Correction by field type
# --------------------------------------------------------------------------


@dataclass
class _Work:
    fmt: Format
    grid: Grid
    fields: list[_Field]
    corrections: list[tuple[str, int, int, str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def allowed_at(self) -> dict[tuple[int, int], _Field]:
        return {pos: f for f in self.fields for pos in f.positions()}


def _replacement(char: str, allowed: frozenset[str]) -> str | None:
    for table in (TO_DIGIT, TO_LETTER, TO_FILLER):
        candidate = table.get(char)
        if candidate is not None and candidate in allowed:
            return candidate
    return None


def _correct_types(work: _Work, keys: Iterable[str]) -> None:
    wanted = set(keys)
    for f in work.fields:
        if f.key not in wanted:
            continue
        for line, pos in f.positions():
            char = work.grid[line][pos]
            if char in f.allowed:
                continue
            fixed = _replacement(char, f.allowed)
            if fixed is None:
                work.problems.append(
                    f"The {f.label} has {_describe(char)} at line {line + 1}, position "
                    f"{pos + 1}, which cannot appear there."
                )
            else:
                work.grid[line][pos] = fixed
                work.corrections.append((f.label, line, pos, char, fixed, "type"))


def _repair_alphanumeric(work: _Work, checks: dict[str, bool]) -> None:
    """Try single look-alike swaps in alphanumeric fields whose check digit fails."""
    at = work.allowed_at()
    for check in _checks(work.fmt, work.grid):
        if check.key == "composite" or checks.get(check.key, True):
            continue
        candidates = []
        for line, start, end in check.parts:
            for pos in range(start, end):
                char = work.grid[line][pos]
                swap = LOOK_ALIKE.get(char)
                if swap is None or at[(line, pos)].allowed != ALNUM:
                    continue
                work.grid[line][pos] = swap
                after = _evaluate(work.fmt, work.grid)
                work.grid[line][pos] = char
                if after.get(check.key) and after.get("composite", True):
                    candidates.append((line, pos, char, swap))
        if len(candidates) == 1:
            line, pos, char, swap = candidates[0]
            work.grid[line][pos] = swap
            work.corrections.append((at[(line, pos)].label, line, pos, char, swap, "check"))
            checks.update(_evaluate(work.fmt, work.grid))
        elif len(candidates) > 1:
            work.problems.append(
                f"The {check.label} check digit fails and {len(candidates)} different "
                "look-alike corrections would fit; the number must be read from the photo."
            )


def _correction_messages(work: _Work, checks: dict[str, bool]) -> tuple[str, ...]:
    covering = _checks(work.fmt, work.grid)
    messages = []
    for label, line, pos, old, new, why in work.corrections:
        where = f"line {line + 1}, position {pos + 1}"
        if why == "check":
            messages.append(
                f"{label}: read '{old}' as '{new}' at {where}, the only look-alike "
                "that makes the check digits match"
            )
            continue
        keys = [
            c.key
            for c in covering
            if any(ln == line and s <= pos < e for ln, s, e in c.parts) or c.digit == (line, pos)
        ]
        if not keys:
            verdict = "no check digit covers it"
        elif all(checks.get(k, False) for k in keys):
            verdict = "the check digit confirms it"
        else:
            verdict = "the check digit does not confirm it"
        messages.append(f"{label}: read '{old}' as '{new}' at {where}; {verdict}")
    return tuple(messages)


# --------------------------------------------------------------------------
# Ambiguity left by the 7-3-1 scheme
# --------------------------------------------------------------------------

_SAME_VALUE_MOD_10: dict[str, tuple[str, ...]] = {
    c: tuple(o for o in ALPHABET if o != c and char_value(o) % 10 == char_value(c) % 10)
    for c in ALPHABET
}


def _ambiguities(work: _Work) -> list[str]:
    """Checked fields where another reading of the same field type passes every check.

    Called only when every check passes. A substitution between characters
    of equal value mod 10 leaves every weighted sum unchanged, so it can only
    fail through the filler rules (an all-filler field with '<' as its check
    digit, the end of a long TD1/TD2 document number); only substitutions
    involving '<' are re-checked.
    """
    at = work.allowed_at()
    checks = _checks(work.fmt, work.grid)
    digits = {c.digit for c in checks}
    found: dict[str, list[tuple[int, int, str, list[str]]]] = {}
    seen: set[tuple[int, int]] = set()
    for check in checks:
        for line, start, end in check.parts:
            for pos in range(start, end):
                if (line, pos) in digits or (line, pos) in seen:
                    continue
                seen.add((line, pos))
                f, char = at[(line, pos)], work.grid[line][pos]
                alternatives = []
                for other in _SAME_VALUE_MOD_10[char]:
                    if other not in f.allowed:
                        continue
                    if FILLER in (char, other):
                        work.grid[line][pos] = other
                        still = all(_evaluate(work.fmt, work.grid).values())
                        work.grid[line][pos] = char
                        if not still:
                            continue
                    alternatives.append(other)
                if alternatives:
                    found.setdefault(f.label, []).append((line, pos, char, alternatives))
    messages = []
    for label, spots in found.items():
        line, pos, char, alternatives = spots[0]
        others = " or ".join(f"'{a}'" for a in alternatives)
        more = f" (and {len(spots) - 1} more position(s))" if len(spots) > 1 else ""
        messages.append(
            f"The {label} may hold letters and digits, and its check digits cannot tell "
            f"'{char}' at line {line + 1}, position {pos + 1} from {others}{more}; "
            "compare it with the photo."
        )
    return messages


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def _date(raw: str, label: str, today: date, *, future_years: int, work: _Work) -> date | None:
    if not raw.isdigit():
        return None  # the type check has reported what is in the way
    yy, month, day = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    year = 2000 + yy
    if (year, month, day) > (today.year + future_years, today.month, today.day):
        year -= 100
    try:
        return date(year, month, day)
    except ValueError:
        work.problems.append(f"The {label} '{raw}' is not a valid date.")
        return None


def _name(raw: str) -> tuple[str, str]:
    surname, _, given = raw.rstrip(FILLER).partition(FILLER * 2)
    return _words(surname), _words(given)


def _words(raw: str) -> str:
    return " ".join(part for part in raw.split(FILLER) if part)


def _sex(raw: str) -> Sex:
    if raw in ("M", "F", "X"):
        return "M" if raw == "M" else "F" if raw == "F" else "X"
    if raw == FILLER:
        return "X"
    return ""


def _value(grid: Grid, line: int, start: int, end: int) -> str:
    return "".join(grid[line][start:end])


def _span(work: _Work, key: str) -> Span | None:
    for f in work.fields:
        if f.key == key:
            return (f.line, f.start, f.end)
    return None


def _read(work: _Work, key: str) -> str:
    span = _span(work, key)
    return "" if span is None else _value(work.grid, *span)


def _document_number(work: _Work) -> tuple[str, str]:
    """The document number and what remains of the optional data."""
    number, optional = _read(work, "document_number"), _read(work, "optional_data")
    number_span, optional_span = _span(work, "document_number"), _span(work, "optional_data")
    digit = _span(work, "document_number_check")
    if work.fmt in ("TD1", "TD2") and number_span and optional_span and digit:
        extension = _long_number(work.grid, number_span, digit[:2], optional_span)
        if extension is not None:
            length = extension[2] - extension[1]
            if length < 2:
                work.problems.append(
                    "The document number continues in the optional data, but its end is missing."
                )
            else:
                number += optional[: length - 1]
                optional = optional[length:]
    return number.replace(FILLER, ""), optional.strip(FILLER)


def _russian_extras(
    work: _Work, number: str, today: date, birth: date | None
) -> tuple[str, date | None, str | None]:
    """Series and number, issue date and office code of the internal passport."""
    raw = _read(work, "optional_data")  # 13 characters; the 14th is a filler
    series_digit, issued, office = raw[0], raw[1:7], raw[7:13]
    full = number[:3] + series_digit + number[3:] if series_digit.isdigit() else number
    issue = _date(issued, "issue date", today, future_years=0, work=work)
    if issue is not None and birth is not None and issue < birth:
        work.problems.append("The issue date is before the birth date.")
    return full, issue, (f"{office[:3]}-{office[3:]}" if office.isdigit() else None)


def _cyrillic(mrz_form: str, work: _Work) -> str | None:
    try:
        return decode_russian_name(mrz_form)
    except MrzError as error:  # only characters the type check has reported
        work.problems.append(f"The name cannot be read in Cyrillic: {error}.")
        return None


# --------------------------------------------------------------------------
# Parse
# --------------------------------------------------------------------------


def parse(text: str, *, today: date | None = None) -> MrzResult:
    """Parse MRZ lines (stray spaces, lowercase and blank lines are fine).

    Raises MrzError when the text is not an MRZ at all: wrong number or
    length of lines, characters outside A-Z, 0-9 and '<', or a visa. Any
    MRZ-shaped text gets a result; what is wrong with it is in `problems`.
    Two-digit years: birth and issue dates are taken in the past relative to
    `today`; expiry dates up to 20 years ahead of it.
    """
    today = today or date.today()
    grid = [list(line) for line in _lines(text)]
    fmt = _detect(grid)
    # The header first: the issuing state decides the type of the document number.
    work = _Work(fmt, grid, _fields(fmt, False))
    _correct_types(work, _HEADER)
    code, state = _value(grid, 0, 0, 2), _value(grid, 0, 2, 5)
    if fmt == "TD3" and code[0] == "P" and state == "RUS":
        work.fields = _fields(fmt, True)
    _correct_types(work, (f.key for f in work.fields if f.key not in _HEADER))
    checks = _evaluate(fmt, grid)
    _repair_alphanumeric(work, checks)
    return _result(work, checks, code, state, today)


_HEADER = ("document_code", "issuing_state")


def _result(work: _Work, checks: dict[str, bool], code: str, state: str, today: date) -> MrzResult:
    fmt = work.fmt
    number, optional = _document_number(work)
    birth = _date(_read(work, "birth_date"), "birth date", today, future_years=0, work=work)
    expiry: date | None = None
    if fmt != "RU_INTERNAL":
        expiry = _date(_read(work, "expiry_date"), "expiry date", today, future_years=20, work=work)
    sex = _sex(_read(work, "sex"))
    if not sex:
        work.problems.append(f"The sex field reads '{_read(work, 'sex')}'.")
    surname, given = _name(_read(work, "name"))
    surname_cyr = given_cyr = None
    issue: date | None = None
    office: str | None = None
    if fmt == "RU_INTERNAL":
        surname_cyr, given_cyr = _cyrillic(surname, work), _cyrillic(given, work)
        number, issue, office = _russian_extras(work, number, today, birth)
    _check_problems(work, checks)
    ambiguous = _ambiguities(work) if all(checks.values()) and not work.problems else []
    low = bool(work.problems or ambiguous or not all(checks.values()))
    if expiry is not None and expiry < today:
        work.notes.append(f"The document expired on {expiry.isoformat()}.")
    return MrzResult(
        format=fmt,
        document_code=code.rstrip(FILLER),
        issuing_state=state.replace(FILLER, ""),
        surname=surname,
        given_names=given,
        surname_cyrillic=surname_cyr,
        given_names_cyrillic=given_cyr,
        document_number=number,
        nationality=_read(work, "nationality").replace(FILLER, ""),
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        optional_data=optional,
        optional_data_2=_read(work, "optional_data_2").strip(FILLER),
        issue_date=issue,
        issuing_office=office,
        checks=checks,
        corrections=_correction_messages(work, checks),
        confidence="low" if low else "high",
        problems=tuple(work.problems + ambiguous + work.notes),
        lines=tuple("".join(line) for line in work.grid),
    )


def _check_problems(work: _Work, checks: dict[str, bool]) -> None:
    for key, ok in checks.items():
        if ok:
            continue
        if key == "composite":
            work.problems.append(
                "The composite check digit does not match; a character in the checked "
                "fields was probably misread."
            )
        else:
            label = key.replace("_", " ")
            work.problems.append(
                f"The {label} check digit does not match; the {label} or its check digit "
                "was probably misread."
            )
