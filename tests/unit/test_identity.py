"""Tests for wizard.rules.identity: tables for each parser plus hypothesis properties."""

from __future__ import annotations

import datetime
import pickle
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from wizard.rules.identity import (
    Invalid,
    ParsedDate,
    fold,
    format_msisdn,
    mask_msisdn,
    mask_national_id,
    national_id_checksum_ok,
    parse_birth_date,
    parse_msisdn,
    parse_name,
    parse_national_id,
    parse_nhi_card,
)

TODAY = datetime.date(2024, 6, 15)

# --------------------------------------------------------------------------
# Independent reference implementation of the ID checksum
# --------------------------------------------------------------------------

# Written out from the published table, deliberately not shared with the module.
REF_LETTER_VALUES = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17,
    "J": 18, "K": 19, "L": 20, "M": 21, "N": 22, "P": 23, "Q": 24, "R": 25,
    "S": 26, "T": 27, "U": 28, "V": 29, "X": 30, "Y": 31, "W": 32, "Z": 33,
    "I": 34, "O": 35,
}  # fmt: skip
LETTERS = string.ascii_uppercase


def ref_weighted_sum(nid: str) -> int:
    """Weighted sum over the first 10 'digits' (letter split in two, positions 2..9)."""
    value = REF_LETTER_VALUES[nid[0]]
    second = nid[1]
    position2 = REF_LETTER_VALUES[second] % 10 if second.isalpha() else int(second)
    numbers = [value // 10, value % 10, position2] + [int(c) for c in nid[2:9]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    return sum(n * w for n, w in zip(numbers, weights, strict=True))


def ref_checksum_ok(nid: str) -> bool:
    if nid[1] not in "1289ABCD":
        return False
    return (ref_weighted_sum(nid) + int(nid[9])) % 10 == 0


def ref_with_check_digit(prefix: str) -> str:
    """Complete a 9-character prefix with the one check digit that makes it valid."""
    return prefix + str(-ref_weighted_sum(prefix) % 10)


def wrong_check_digit(nid: str) -> str:
    return nid[:9] + str((int(nid[9]) + 1) % 10)


def code_of(func, *args) -> str:
    with pytest.raises(Invalid) as info:
        func(*args)
    return info.value.code


# --------------------------------------------------------------------------
# Invalid and fold
# --------------------------------------------------------------------------


def test_invalid_carries_code_and_params():
    error = Invalid("id.length", length=9)
    assert isinstance(error, ValueError)
    assert error.code == "id.length"
    assert error.params == {"length": 9}
    assert "id.length" in str(error)
    assert Invalid("id.empty").params == {}


def test_invalid_pickles_with_params():
    error = pickle.loads(pickle.dumps(Invalid("name.length", max=50)))
    assert (error.code, error.params) == ("name.length", {"max": 50})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ａ１２３", "A123"),
        (" a 1\t2\n3 ", "A123"),
        ("a\u30001\u00a02\u20033", "A123"),  # ideographic space, NBSP, em space
        ("０９１２－３４５", "0912-345"),
        ("", ""),
    ],
)
def test_fold(raw, expected):
    assert fold(raw) == expected


# --------------------------------------------------------------------------
# National ID
# --------------------------------------------------------------------------

VALID_NATIONAL_IDS = [
    "A123456789",
    "B222222228",
    "F135792464",
    "I123456781",
    "I200000005",
    "O123456782",
    "O199999992",
    "W123456789",
    "X123456787",
    "Y123456788",
    "Z123456780",
    "Z298765438",
]


@pytest.mark.parametrize("nid", VALID_NATIONAL_IDS)
def test_valid_national_ids(nid):
    assert ref_checksum_ok(nid)  # the hard-coded table agrees with the reference
    assert national_id_checksum_ok(nid)
    assert parse_national_id(nid) == nid


@pytest.mark.parametrize("letter", LETTERS)
@pytest.mark.parametrize("sex", "12")
def test_every_letter_has_valid_ids(letter, sex):
    nid = ref_with_check_digit(f"{letter}{sex}2345678")
    assert parse_national_id(nid) == nid
    assert code_of(parse_national_id, wrong_check_digit(nid)) == "id.checksum"


@pytest.mark.parametrize(
    "raw",
    [
        "ａ１２３４５６７８９",
        " a123 456 789 ",
        "a123456789",
        "Ａ123456789",
        "A\u3000123456789",
        "A123\u00a0456\t789\n",
    ],
)
def test_national_id_folding(raw):
    assert parse_national_id(raw) == "A123456789"


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "id.empty", {}),
        ("   \u3000", "id.empty", {}),
        ("王123456789", "id.characters", {}),
        ("A123-456-789", "id.characters", {}),
        ("A12345678٩", "id.characters", {}),  # Arabic-Indic nine: not ASCII
        ("A1234567", "id.length", {"length": 8}),
        ("A1234567890", "id.length", {"length": 11}),
        ("A", "id.length", {"length": 1}),
        ("1123456789", "id.first_letter", {}),
        ("0000000000", "id.first_letter", {}),
        ("A800000014", "id.foreign_new", {}),
        ("A912345673", "id.foreign_new", {}),
        ("Y800123459", "id.foreign_new", {}),
        ("AC12345679", "id.foreign_old", {}),
        ("FA12345670", "id.foreign_old", {}),
        ("BD98765430", "id.foreign_old", {}),
        ("A323456789", "id.second_digit", {}),
        ("A023456789", "id.second_digit", {}),
        ("AE12345678", "id.second_digit", {}),
        ("AZ12345678", "id.second_digit", {}),
        ("A8ABCDEFGH", "id.second_digit", {}),
        ("A1234567X9", "id.digits", {}),
        ("A2ABCDEFGH", "id.digits", {}),
        ("A123456788", "id.checksum", {}),
        ("A223456789", "id.checksum", {}),
        ("A800000015", "id.checksum", {}),  # new-format foreign, bad checksum
        ("AC12345678", "id.checksum", {}),  # old-format foreign, bad checksum
    ],
)
def test_invalid_national_ids(raw, code, params):
    with pytest.raises(Invalid) as info:
        parse_national_id(raw)
    assert (info.value.code, info.value.params) == (code, params)


@pytest.mark.parametrize(
    ("nid", "expected"),
    [
        ("A123456789", True),
        ("A800000014", True),
        ("AC12345679", True),
        ("AA00000009", True),  # A's units digit is 0
        ("A123456788", False),
        ("a123456789", False),  # not folded
        ("A12345678", False),
        ("A1234567890", False),
        ("A323456789", False),
        ("AE12345678", False),
        ("A12345678X", False),
        ("A12345678٩", False),
        ("1123456789", False),
        ("", False),
        ("王王王王王王王王王王", False),
    ],
)
def test_national_id_checksum_ok_table(nid, expected):
    assert national_id_checksum_ok(nid) is expected


def test_foreign_codes_reachable_for_every_letter():
    for letter in LETTERS:
        for second in "89":
            assert code_of(parse_national_id, ref_with_check_digit(f"{letter}{second}1234567")) == (
                "id.foreign_new"
            )
        for second in "ABCD":
            assert code_of(parse_national_id, ref_with_check_digit(f"{letter}{second}1234567")) == (
                "id.foreign_old"
            )


@given(
    letter=st.sampled_from(LETTERS),
    second=st.sampled_from("1289"),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_checksum_matches_reference(letter, second, digits):
    nid = letter + second + digits
    assert national_id_checksum_ok(nid) == ref_checksum_ok(nid)


@given(
    letter=st.sampled_from(LETTERS),
    digits=st.text(alphabet="0123456789", min_size=9, max_size=9),
)
def test_checksum_matches_reference_for_any_nine_digits(letter, digits):
    """Any letter + 9 digits: reference result, and always False outside 1/2/8/9."""
    nid = letter + digits
    expected = ref_checksum_ok(nid) if digits[0] in "1289" else False
    assert national_id_checksum_ok(nid) == expected


@given(
    letter=st.sampled_from(LETTERS),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
    second=st.sampled_from("ABCD"),
)
def test_old_format_checksum_matches_reference(letter, digits, second):
    nid = letter + second + digits
    assert national_id_checksum_ok(nid) == ref_checksum_ok(nid)


@given(
    letter=st.sampled_from(LETTERS),
    second=st.sampled_from("1289ABCD"),
    digits=st.text(alphabet="0123456789", min_size=7, max_size=7),
)
def test_exactly_one_check_digit(letter, second, digits):
    prefix = letter + second + digits
    valid = [d for d in "0123456789" if national_id_checksum_ok(prefix + d)]
    assert valid == [ref_with_check_digit(prefix)[-1]]


@given(
    letter=st.sampled_from(LETTERS),
    second=st.sampled_from("12"),
    digits=st.text(alphabet="0123456789", min_size=7, max_size=7),
    data=st.data(),
)
def test_valid_ids_survive_case_width_and_spaces(letter, second, digits, data):
    nid = ref_with_check_digit(letter + second + digits)
    typed = ""
    for ch in nid:
        if data.draw(st.booleans()):
            ch = chr(ord(ch) + 0xFEE0)  # full-width form
        if data.draw(st.booleans()):
            ch = ch.lower()
        typed += ch + data.draw(st.sampled_from(["", " ", "\u3000", "\t"]))
    assert parse_national_id(typed) == nid


@given(st.text())
def test_parse_national_id_only_raises_invalid(raw):
    try:
        nid = parse_national_id(raw)
    except Invalid:
        return
    assert national_id_checksum_ok(nid) and nid[1] in "12"


@given(st.text(alphabet="ABCDIOWZabc0123456789 ８９-", max_size=14))
def test_parse_national_id_only_raises_invalid_id_like(raw):
    try:
        nid = parse_national_id(raw)
    except Invalid as error:
        assert error.code.startswith("id.")
        return
    assert ref_checksum_ok(nid)


@given(st.text())
def test_checksum_ok_never_raises(text):
    assert national_id_checksum_ok(text) in (True, False)


@pytest.mark.parametrize(
    ("nid", "masked"),
    [("A123456789", "A12345****"), ("Z298765438", "Z29876****"), ("1234", "****"), ("", "")],
)
def test_mask_national_id(nid, masked):
    assert mask_national_id(nid) == masked


# --------------------------------------------------------------------------
# Mobile phone numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "0912-345-678",
        "0912 345678",
        "0912.345.678",
        "+886 912 345 678",
        "+886-912-345678",
        "+886 (0)912 345 678",
        "886912345678",
        "8860912345678",
        "(0912)345678",
        "０９１２３４５６７８",
        "０９１２－３４５６７８",
        "＋８８６９１２３４５６７８",
        "0912\u2013345\u2013678",  # en dashes
        " 0912\u3000345678 ",
    ],
)
def test_valid_msisdn(raw):
    assert parse_msisdn(raw) == "0912345678"


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "phone.empty", {}),
        ("  ", "phone.empty", {}),
        ("--", "phone.empty", {}),
        ("0912abc678", "phone.characters", {}),
        ("0912_345_678", "phone.characters", {}),
        ("0912/345678", "phone.characters", {}),
        ("09123456７8#", "phone.characters", {}),
        ("0912+345678", "phone.characters", {}),
        ("+", "phone.characters", {}),
        ("091234567٨", "phone.characters", {}),  # Arabic-Indic digit
        ("0223961266", "phone.prefix", {}),
        ("02-2396-1266", "phone.prefix", {}),
        ("1912345678", "phone.prefix", {}),
        ("+886 2 2396 1266", "phone.prefix", {}),
        ("+1 212 555 0100", "phone.prefix", {}),
        ("091234567", "phone.length", {"length": 9}),
        ("09123456789", "phone.length", {"length": 11}),
        ("0", "phone.length", {"length": 1}),
        ("+886 912 345 67", "phone.length", {"length": 9}),
        ("07-1234567", "phone.length", {"length": 9}),
    ],
)
def test_invalid_msisdn(raw, code, params):
    with pytest.raises(Invalid) as info:
        parse_msisdn(raw)
    assert (info.value.code, info.value.params) == (code, params)


@given(st.text())
def test_parse_msisdn_only_raises_invalid(raw):
    try:
        number = parse_msisdn(raw)
    except Invalid:
        return
    assert len(number) == 10 and number.startswith("09") and number.isascii()
    assert number.isdigit()


@given(st.text(alphabet="0123456789+-() .８", max_size=16))
def test_parse_msisdn_only_raises_invalid_phone_like(raw):
    try:
        number = parse_msisdn(raw)
    except Invalid as error:
        assert error.code.startswith("phone.")
        return
    assert parse_msisdn(number) == number


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_msisdn_international_round_trip(rest):
    number = "09" + rest
    assert parse_msisdn(f"+886 {number[1:4]} {number[4:7]} {number[7:]}") == number
    assert parse_msisdn(format_msisdn(number)) == number


@pytest.mark.parametrize(
    ("number", "masked"),
    [("0912345627", "09****27"), ("0987654321", "09****21"), ("123", "****")],
)
def test_mask_msisdn(number, masked):
    assert mask_msisdn(number) == masked


@pytest.mark.parametrize(
    ("number", "formatted"),
    [("0912345678", "0912-345678"), ("0987000111", "0987-000111"), ("12345", "12345")],
)
def test_format_msisdn(number, formatted):
    assert format_msisdn(number) == formatted


# --------------------------------------------------------------------------
# NHI card numbers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("000012345678", "000012345678"),
        ("0000-1234-5678", "000012345678"),
        ("0000 1234 5678", "000012345678"),
        ("０００００００１２３４５", "000000012345"),
        ("０００１－２３４５－６７８９", "000123456789"),
    ],
)
def test_valid_nhi_card(raw, expected):
    assert parse_nhi_card(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "card.empty", {}),
        (" - ", "card.empty", {}),
        ("0000-1234-567A", "card.characters", {}),
        ("0000.1234.5678", "card.characters", {}),
        ("00001234567٨", "card.characters", {}),
        ("00001234567", "card.length", {"length": 11}),
        ("0000-1234-56789", "card.length", {"length": 13}),
    ],
)
def test_invalid_nhi_card(raw, code, params):
    with pytest.raises(Invalid) as info:
        parse_nhi_card(raw)
    assert (info.value.code, info.value.params) == (code, params)


@given(st.text())
def test_parse_nhi_card_only_raises_invalid(raw):
    try:
        card = parse_nhi_card(raw)
    except Invalid:
        return
    assert len(card) == 12 and card.isascii() and card.isdigit()


# --------------------------------------------------------------------------
# Birth dates
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "roc"),
    [
        ("1980/01/05", datetime.date(1980, 1, 5), False),
        ("1980-01-05", datetime.date(1980, 1, 5), False),
        ("1980.01.05", datetime.date(1980, 1, 5), False),
        ("19800105", datetime.date(1980, 1, 5), False),
        ("1980/1/5", datetime.date(1980, 1, 5), False),
        ("1980-1-5", datetime.date(1980, 1, 5), False),
        ("１９８０／０１／０５", datetime.date(1980, 1, 5), False),
        (" 1980 / 01 / 05 ", datetime.date(1980, 1, 5), False),
        ("1980年1月5日", datetime.date(1980, 1, 5), False),
        ("1980年01月05日", datetime.date(1980, 1, 5), False),
        ("1900/01/01", datetime.date(1900, 1, 1), False),
        ("2024/06/14", datetime.date(2024, 6, 14), False),  # yesterday
        ("69/01/01", datetime.date(1980, 1, 1), True),
        ("069/1/1", datetime.date(1980, 1, 1), True),
        ("69.1.1", datetime.date(1980, 1, 1), True),
        ("100/02/03", datetime.date(2011, 2, 3), True),
        ("0690101", datetime.date(1980, 1, 1), True),
        ("1000203", datetime.date(2011, 2, 3), True),
        ("民國69年1月1日", datetime.date(1980, 1, 1), True),
        ("69年1月1日", datetime.date(1980, 1, 1), True),
        ("民國 69 年 1 月 1 日", datetime.date(1980, 1, 1), True),
        ("中華民國69年1月1日", datetime.date(1980, 1, 1), True),
        ("民國69/01/01", datetime.date(1980, 1, 1), True),
        ("民國0690101", datetime.date(1980, 1, 1), True),
        ("1年1月1日", datetime.date(1912, 1, 1), True),
        ("2000/02/29", datetime.date(2000, 2, 29), False),  # leap (divisible by 400)
        ("2020/02/29", datetime.date(2020, 2, 29), False),
        ("109/02/29", datetime.date(2020, 2, 29), True),
        ("89/2/29", datetime.date(2000, 2, 29), True),
    ],
)
def test_valid_birth_dates(raw, expected, roc):
    assert parse_birth_date(raw, TODAY) == ParsedDate(value=expected, roc=roc)


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "date.empty", {}),
        ("\u3000", "date.empty", {}),
        ("yesterday", "date.format", {}),
        ("1980/01", "date.format", {}),
        ("05/01/1980", "date.format", {}),  # day-first with 4-digit year at the end
        ("1/1/1", "date.format", {}),  # 1-digit year only with 年
        ("19800/1/1", "date.format", {}),
        ("800105", "date.format", {}),  # 6 digits: ambiguous, refused
        ("198001055", "date.format", {}),
        ("1980/001/05", "date.format", {}),
        ("民國1980年1月1日", "date.format", {}),  # 民國 with a Gregorian year
        ("民國19800101", "date.format", {}),
        ("1980年1月", "date.format", {}),
        ("1980/01/05 12:00", "date.format", {}),
        ("1980/02/30", "date.invalid", {"text": "1980/02/30"}),
        ("1980/13/01", "date.invalid", {"text": "1980/13/01"}),
        ("1980/00/10", "date.invalid", {"text": "1980/00/10"}),
        ("1980/1/32", "date.invalid", {"text": "1980/1/32"}),
        ("2023/02/29", "date.invalid", {"text": "2023/02/29"}),
        ("2100/02/29", "date.invalid", {"text": "2100/02/29"}),
        ("1900/02/29", "date.invalid", {"text": "1900/02/29"}),  # 1900 is not a leap year
        ("110/02/29", "date.invalid", {"text": "110/02/29"}),
        ("民國 69 年 2 月 30 日", "date.invalid", {"text": "民國69年2月30日"}),
        ("１９８０／１３／０１", "date.invalid", {"text": "1980/13/01"}),
        ("00/01/01", "date.invalid", {"text": "00/01/01"}),  # no 民國 year 0
        ("0000/01/01", "date.invalid", {"text": "0000/01/01"}),
        ("2024/06/15", "date.future", {}),  # today
        ("2024/06/16", "date.future", {}),
        ("113/06/15", "date.future", {}),
        ("2999/12/31", "date.future", {}),
        ("1899/12/31", "date.too_old", {}),
        ("18000101", "date.too_old", {}),
    ],
)
def test_invalid_birth_dates(raw, code, params):
    with pytest.raises(Invalid) as info:
        parse_birth_date(raw, TODAY)
    assert (info.value.code, info.value.params) == (code, params)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (ParsedDate(datetime.date(1980, 1, 5), roc=False), "1980/01/05"),
        (ParsedDate(datetime.date(2011, 12, 31), roc=True), "2011/12/31"),
        (ParsedDate(datetime.date(900, 3, 4), roc=False), "0900/03/04"),
    ],
)
def test_parsed_date_display(value, shown):
    assert value.display() == shown


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY - datetime.timedelta(1)))
def test_birth_date_round_trip(value):
    for text in (
        value.strftime("%Y/%m/%d"),
        f"{value.year}-{value.month}-{value.day}",
        f"{value.year:04d}{value.month:02d}{value.day:02d}",
        f"{value.year}年{value.month}月{value.day}日",
    ):
        assert parse_birth_date(text, TODAY) == ParsedDate(value, roc=False)
    assume(value.year >= 1912)
    roc = value.year - 1911
    for text in (
        f"{roc}/{value.month}/{value.day}" if roc >= 10 else f"0{roc}/{value.month}/{value.day}",
        f"{roc:03d}{value.month:02d}{value.day:02d}",
        f"民國{roc}年{value.month}月{value.day}日",
    ):
        assert parse_birth_date(text, TODAY) == ParsedDate(value, roc=True)


@given(st.text(), st.dates())
def test_parse_birth_date_only_raises_invalid(raw, today):
    try:
        parsed = parse_birth_date(raw, today)
    except Invalid:
        return
    assert datetime.date(1900, 1, 1) <= parsed.value < today


@given(st.text(alphabet="0123456789/.-年月日民國 ０", max_size=16), st.dates())
def test_parse_birth_date_only_raises_invalid_date_like(raw, today):
    try:
        parse_birth_date(raw, today)
    except Invalid as error:
        assert error.code.startswith("date.")


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("王小明", "王小明"),
        ("  王小明\u3000", "王小明"),
        ("王\u3000小明", "王 小明"),
        ("林\U0002a6a5", "林\U0002a6a5"),  # outside the BMP (CJK extension B)
        ("𡘙美", "𡘙美"),
        ("瓦歷斯·諾幹", "瓦歷斯·諾幹"),
        ("瓦歷斯‧諾幹", "瓦歷斯·諾幹"),  # U+2027
        ("瓦歷斯・諾幹", "瓦歷斯·諾幹"),  # U+30FB
        ("瓦歷斯．諾幹", "瓦歷斯·諾幹"),  # U+FF0E
        ("瓦歷斯 · 諾幹", "瓦歷斯·諾幹"),
        ("Kolas Yotaka", "Kolas Yotaka"),
        ("Kolas   Yotaka", "Kolas Yotaka"),
        ("Kolas\u00a0Yotaka", "Kolas Yotaka"),
        ("Ljuljuian", "Ljuljuian"),
        ("Sa'ki", "Sa'ki"),
        ("Sa\u2019ki", "Sa'ki"),  # iOS smart apostrophe
        ("Jean-Luc Picard", "Jean-Luc Picard"),
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # NFC composes
        ("Ｋｏｌａｓ", "Ｋｏｌａｓ"),  # NFC, not NFKC: full-width kept as typed
        ("ḽaḓa", "ḽaḓa"),
        ("\U00031350", "\U00031350"),  # CJK extension H, newer than Python 3.11's database
        ("王" * 50, "王" * 50),
    ],
)
def test_valid_names(raw, expected):
    assert parse_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "params"),
    [
        ("", "name.empty", {}),
        (" \u3000 ", "name.empty", {}),
        ("王\x00小明", "name.control", {}),
        ("王小明\x00", "name.control", {}),  # trailing: checked before stripping
        ("王\u200b小明", "name.control", {}),  # zero-width space (Cf)
        ("\ufeff王小明", "name.control", {}),
        ("王\u200d小明", "name.control", {}),
        ("王\ue000", "name.control", {}),  # private use
        ("王\u0378", "name.control", {}),  # unassigned
        ("王\ud800", "name.control", {}),  # lone surrogate
        ("王\t小明", "name.control", {}),
        ("王小明😀", "name.characters", {"chars": "😀"}),
        ("王小明123", "name.characters", {"chars": "123"}),
        ("王1小1明2", "name.characters", {"chars": "12"}),
        ("王小明!", "name.characters", {"chars": "!"}),
        ("王.小明", "name.characters", {"chars": "."}),
        ("·王小明", "name.characters", {"chars": "·"}),
        ("瓦歷斯··諾幹", "name.characters", {"chars": "·"}),
        ("Sa'", "name.characters", {"chars": "'"}),
        ("-Luc", "name.characters", {"chars": "-"}),
        ("Jean - Luc", "name.characters", {"chars": "-"}),
        ("\u0301a", "name.characters", {"chars": "\u0301"}),
        ("王小明<script>", "name.characters", {"chars": "<>"}),
        ("王" * 51, "name.length", {"max": 50}),
        ("王 " * 25 + "王", "name.length", {"max": 50}),
    ],
)
def test_invalid_names(raw, code, params):
    with pytest.raises(Invalid) as info:
        parse_name(raw)
    assert (info.value.code, info.value.params) == (code, params)


@given(st.text())
def test_parse_name_only_raises_invalid(raw):
    try:
        name = parse_name(raw)
    except Invalid:
        return
    assert name == name.strip() and "  " not in name and 0 < len(name) <= 50
    assert parse_name(name) == name  # idempotent


@given(st.text(alphabet="王小明aé' -·‧・．\u3000\u0301", max_size=60))
def test_parse_name_only_raises_invalid_name_like(raw):
    try:
        name = parse_name(raw)
    except Invalid as error:
        assert error.code.startswith("name.")
        return
    assert parse_name(name) == name


@pytest.mark.parametrize(
    "parser",
    [parse_national_id, parse_msisdn, parse_nhi_card, parse_name],
)
@pytest.mark.parametrize("raw", ["\ud800", "\U0010ffff", "\x00", "ß" * 100, "ﬀ", "\u0345"])
def test_parsers_only_raise_invalid_on_odd_text(parser, raw):
    try:
        parser(raw)
    except Invalid:
        pass
