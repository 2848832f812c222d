"""Tests for wizard.rules.passwords (NIST SP 800-63B / OWASP ASVS 5 password rules)."""

from __future__ import annotations

import datetime
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.rules import passwords
from wizard.rules.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    Context,
    Hasher,
    PasswordRejected,
    check,
    normalise,
)

# No runs, walks, repetitions or blocklisted words in any prefix of 7+ characters.
BASE = "Vq3#rT8!mZ1xK6$wLp9&cN4@hJ2^bY7*gS5(dF0)eU-aQ+iO=oP_kM~tR<lW>zX?jG"
PASSPHRASE_64 = "my grandmother's red bicycle still squeaks every rainy tuesday!!"
# Single code point each (no variation selectors, no ZWJ).
EMOJI = "\U0001f408\U0001f415\U0001f407\U0001f422\U0001f989\U0001f98a\U0001f43c\U0001f428"
CJK = "山高水長月明星稀"


def rejected(password: str, **kwargs: Any) -> PasswordRejected:
    with pytest.raises(PasswordRejected) as info:
        check(password, **kwargs)
    return info.value


def test_fixtures_have_the_lengths_the_tests_rely_on() -> None:
    assert len(BASE) >= MAX_LENGTH + 1
    assert len(PASSPHRASE_64) == MAX_LENGTH
    assert len(EMOJI) == 8
    assert len(CJK) == 8


# --- length ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code", "params"),
    [
        ("", "password.empty", {}),
        ("a", "password.too_short", {"min": 8, "length": 1}),
        (BASE[:7], "password.too_short", {"min": 8, "length": 7}),
        (EMOJI[:7], "password.too_short", {"min": 8, "length": 7}),
        (CJK[:7], "password.too_short", {"min": 8, "length": 7}),
        ("       ", "password.too_short", {"min": 8, "length": 7}),
        # full-width characters count once after NFKC
        ("ＡＢＣ１２３", "password.too_short", {"min": 8, "length": 6}),
        (BASE[:65], "password.too_long", {"max": 64, "length": 65}),
        (PASSPHRASE_64 + " ", "password.too_long", {"max": 64, "length": 65}),
        ("x" * 1000, "password.too_long", {"max": 64, "length": 1000}),
    ],
)
def test_length_rules(password: str, code: str, params: dict[str, object]) -> None:
    error = rejected(password)
    assert error.code == code
    assert error.params == params


@pytest.mark.parametrize(
    "password",
    [
        BASE[:8],
        BASE[:64],
        EMOJI,
        CJK,
        PASSPHRASE_64,
        "correct horse battery staple",
        "Tr0ub4dor&3",
        "我的密碼是很長的一句話",
        "Kolas' tea 2 go",
        "zzz a . .",
    ],
)
def test_accepted_passwords_are_returned_unchanged(password: str) -> None:
    assert check(password) == password


def test_length_is_counted_after_nfkc() -> None:
    # U+FB03 LATIN SMALL LIGATURE FFI becomes three letters: 6 code points in, 8 out.
    assert check("abc\ufb03xy") == "abcffixy"
    assert rejected("ab\ufb03xy").params == {"min": 8, "length": 7}


def test_paste_with_surrounding_spaces_is_kept_as_is() -> None:
    assert check("Tr0ub4dor&3 ") == "Tr0ub4dor&3 "
    assert check(" Tr0ub4dor&3") == " Tr0ub4dor&3"
    assert rejected("Tr0ub4dor&3 ", confirm="Tr0ub4dor&3").code == "password.mismatch"


def test_normalise_is_nfkc_only() -> None:
    assert normalise("ｐａｓｓ　ｗｏｒｄ") == "pass word"  # ideographic space -> space
    assert normalise("  Mixed Case  ") == "  Mixed Case  "
    assert normalise("\u00a0x") == " x"


# --- control characters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "\x00",
        "\n",
        "\r",
        "\t",
        "\x7f",
        "\u200b",  # zero width space (Cf)
        "\u202e",  # right-to-left override (Cf)
        "\ufeff",  # byte order mark (Cf)
        "\u2028",  # line separator (Zl)
        "\u2029",  # paragraph separator (Zp)
        "\ud800",  # lone surrogate (Cs)
    ],
)
def test_control_characters_are_refused(bad: str) -> None:
    assert rejected(BASE[:10] + bad + BASE[10:12]).code == "password.control"


# --- confirmation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confirm", "ok"),
    [
        (None, True),
        (BASE[:12], True),
        ("Ｖｑ３＃ｒＴ８！ｍＺ１ｘ", True),  # full-width form of the same password
        ("", False),
        (BASE[:11], False),
        (BASE[:12] + " ", False),
        (BASE[:12].lower(), False),
    ],
)
def test_confirmation(confirm: str | None, ok: bool) -> None:
    if ok:
        assert check(BASE[:12], confirm=confirm) == BASE[:12]
    else:
        assert rejected(BASE[:12], confirm=confirm).code == "password.mismatch"


@pytest.mark.parametrize(
    ("password", "confirm", "context", "code"),
    [
        ("", "x", Context(), "password.empty"),
        ("short", "other", Context(), "password.too_short"),
        ("x" * 65, "other", Context(), "password.too_long"),
        ("pass\nword!", "other", Context(), "password.control"),
        ("password", "passw0rd", Context(), "password.mismatch"),
        ("12345678", None, Context(msisdn="0912345678"), "password.common"),
        ("n125830471", None, Context(national_id="N125830471", name="N"), "password.contains"),
    ],
)
def test_codes_are_checked_in_order(
    password: str, confirm: str | None, context: Context, code: str
) -> None:
    assert rejected(password, confirm=confirm, context=context).code == code


# --- common passwords -----------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        # blocklist, case-insensitive, after NFKC
        "password",
        "PASSWORD",
        "PassWord",
        "ｐａｓｓｗｏｒｄ",
        "password1",
        "p@ssw0rd",
        "P@SSW0RD",
        "iloveyou",
        "woaini1314",
        "aa123456",
        "a123456789",
        "abc12345",
        "qwe12345",
        "taipei101",
        "zxcvbnm1",
        "1234qwer",
        # separators ignored
        "pass word",
        "p.a.s.s.w.o.r.d",
        "1234-5678",
        "1234/5678",
        ". . . . . .",
        # one character repeated
        "aaaaaaaa",
        "11111111",
        "        ",
        "\U0001f408" * 8,
        "好好好好好好好好",
        # ascending / descending runs
        "12345678",
        "87654321",
        "78901234",
        "abcdefgh",
        "HGFEDCBA",
        "lmnopqrstu",
        # keyboard
        "qwertyui",
        "asdfghjk",
        "poiuytre",
        "zxcvbnm,",
        "1qaz2wsx",
        "2wsx3edc",
        "!QAZ@WSX",
        "!@#$%^&*",
        "1q2w3e4r5t",
        "147258369",
        "qweasdzxc",
        # short or weak block repeated
        "abababab",
        "12121212",
        "abcabcabc",
        "!@#$!@#$",
        "qwertyqwerty",
        "abcdeabcde",
        "passwordpassword",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    assert rejected(password).code == "password.common"


@pytest.mark.parametrize(
    "password",
    [
        "password is long enough",
        "passwordx7K",
        "iloveyou so much, taipei",
        "aaaaaaab",
        "12345679",
        "abcdefgj",
        "qwertyuZ",
        "1qaz2wsz",
        "abcabcabd",
        "qwertyasdfgh!",
    ],
)
def test_near_misses_of_common_passwords_are_accepted(password: str) -> None:
    assert check(password) == password


def test_blocklist_file_is_well_formed() -> None:
    text = passwords.BLOCKLIST_PATH.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("#")
    assert any("SecLists" in line for line in lines if line.startswith("#"))
    entries = [line for line in lines if line and not line.startswith("#")]
    assert 300 <= len(entries) <= 600
    assert len(entries) == len(set(entries))
    for entry in entries:
        assert entry == entry.strip()
        assert entry == unicodedata.normalize("NFKC", entry).lower()
        assert MIN_LENGTH <= len(entry) <= MAX_LENGTH, entry
    assert passwords._blocklist() == frozenset(entries)
    assert passwords._blocklist() is passwords._blocklist()  # loaded once


def test_every_blocklist_entry_is_refused() -> None:
    for entry in passwords._blocklist():
        assert rejected(entry.upper()).code == "password.common", entry


# --- personal data --------------------------------------------------------------------

PERSON = Context(
    national_id="N125830471",
    msisdn="0928374651",
    birth_date=datetime.date(1985, 7, 23),
    name="Kolas Yotaka",
)


@pytest.mark.parametrize(
    ("password", "what"),
    [
        # national ID: whole (any case) or its nine digits
        ("my N125830471 pw", "national_id"),
        ("n125830471!x", "national_id"),
        ("zz125830471", "national_id"),
        ("zz 125-830-471", "national_id"),
        ("B125830471 x", "national_id"),  # another letter, the same nine digits
        # phone: 10 digits, 9 digits after the 0, last 8 digits
        ("tel0928374651", "msisdn"),
        ("tel 0928-374-651", "msisdn"),
        ("+886 928 374 651", "msisdn"),
        ("28374651ab", "msisdn"),
        # birth date
        ("19850723xy", "birth_date"),
        ("1985/07/23!", "birth_date"),
        ("1985-07-23!", "birth_date"),
        ("1985.07.23!", "birth_date"),
        ("07231985ab", "birth_date"),
        ("23071985ab", "birth_date"),
        ("0740723abc", "birth_date"),
        ("740723abcd", "birth_date"),
        ("850723abcd", "birth_date"),
        # name: whole without spaces/dots, or a word of 3+ letters
        ("kolasyotaka!", "name"),
        ("KOLAS YOTAKA", "name"),
        ("Kolas-Yotaka 1", "name"),
        ("Yotaka2024!!", "name"),
        ("i am kolas!", "name"),
    ],
)
def test_password_containing_personal_data_is_refused(password: str, what: str) -> None:
    error = rejected(password, context=PERSON)
    assert error.code == "password.contains"
    assert error.params == {"what": what}  # the matched value itself is never echoed


@pytest.mark.parametrize(
    "password",
    [
        "my N12583047 pw",  # 8 of the 9 ID digits
        "zz125830472",  # one digit off
        "tel 8374651ab",  # 7 of the phone digits
        "zz09283746x",
        "1985x0723!",  # date broken by a letter
        "19850724xy",  # a day later
        "07241985ab",
        "0750723abc",  # wrong ROC year
        "kola yota 99",  # shorter than the words
        "kolayotak 99",
    ],
)
def test_near_misses_of_personal_data_are_accepted(password: str) -> None:
    assert check(password, context=PERSON) == password


def test_roc_date_from_the_spec() -> None:
    born = Context(birth_date=datetime.date(1980, 1, 1))
    assert rejected("0690101abc", context=born).params == {"what": "birth_date"}
    assert rejected("abc690101x", context=born).params == {"what": "birth_date"}
    assert check("abc690102x", context=born) == "abc690102x"


def test_roc_year_with_three_digits() -> None:
    born = Context(birth_date=datetime.date(2012, 3, 4))
    assert rejected("xy1010304z", context=born).params == {"what": "birth_date"}
    assert check("xy1010305z", context=born) == "xy1010305z"


def test_birth_before_the_roc_calendar_has_no_roc_forms() -> None:
    born = Context(birth_date=datetime.date(1900, 5, 6))
    assert rejected("19000506xy", context=born).params == {"what": "birth_date"}
    assert check("Vq3#0506rT", context=born) == "Vq3#0506rT"


def test_msisdn_in_international_form() -> None:
    person = Context(msisdn="+886 928 374 651")
    assert rejected("tel0928374651", context=person).params == {"what": "msisdn"}
    assert check("tel0928374650", context=person) == "tel0928374650"


@pytest.mark.parametrize(
    ("name", "password", "refused"),
    [
        ("王小明", "王小明的密碼很長", True),
        ("王小明", "我是王 小明不是別人", True),
        ("王小明", "小明的密碼很長喔", True),  # the given name alone
        ("王小明", "王大明的密碼很長", False),
        ("王小明", "小王的密碼很長喔", False),
        ("歐陽小明", "小明的密碼很長喔", True),
        ("王明", "王明的密碼很長喔", True),
        ("王明", "王小明的密碼很長", False),
        ("Kolas\u2027Yotaka", "kolasyotaka 1", True),  # hyphenation point, as used in Taiwan
        ("Kolas\u00b7Yotaka", "yotaka rocks!", True),
        ("Kolas Yotaka", "koala bear tea", False),
        ("Li Na", "Lina1234abc", True),
        ("Li Na", "li is here na", False),  # 2-letter words alone are not checked
        ("Ｌｉ Ｎａ", "LINA1234abc", True),
        ("", "Vq3#rT8!mZ", False),
        ("A", "Vq3#rT8!mZ", False),  # a single character is not checked
    ],
)
def test_name(name: str, password: str, refused: bool) -> None:
    context = Context(name=name)
    if refused:
        assert rejected(password, context=context).params == {"what": "name"}
    else:
        assert check(password, context=context) == password


def test_empty_context_checks_nothing_personal() -> None:
    assert check("n125830471x") == "n125830471x"
    assert check("n125830471x", context=Context(national_id="", msisdn="")) == "n125830471x"


# --- exception ------------------------------------------------------------------------


def test_password_rejected_is_a_value_error_with_code_and_params() -> None:
    error = PasswordRejected("password.too_short", min=8, length=3)
    assert isinstance(error, ValueError)
    assert error.code == "password.too_short"
    assert error.params == {"min": 8, "length": 3}
    assert str(error) == "password.too_short"
    assert PasswordRejected("password.empty").params == {}
    assert repr(error) == "PasswordRejected('password.too_short', **{'min': 8, 'length': 3})"


# --- hashing --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hasher() -> Hasher:
    return Hasher.for_tests()


def test_hash_round_trip(hasher: Hasher) -> None:
    stored = hasher.hash("Tr0ub4dor&3 ")
    assert stored.startswith("$argon2id$")
    assert "m=1024,t=1,p=1" in stored
    assert hasher.verify(stored, "Tr0ub4dor&3 ")
    assert not hasher.verify(stored, "Tr0ub4dor&3")  # trailing space matters
    assert not hasher.verify(stored, "tr0ub4dor&3 ")
    assert not hasher.verify(stored, "")


def test_hash_is_salted(hasher: Hasher) -> None:
    assert hasher.hash(BASE[:12]) != hasher.hash(BASE[:12])


def test_hash_uses_the_normalised_password(hasher: Hasher) -> None:
    stored = hasher.hash("ｐａｓｓ　ｗｏｒｄ ｌｏｎｇ")
    assert hasher.verify(stored, "pass word long")
    assert hasher.verify(hasher.hash("pass word long"), "ｐａｓｓ　ｗｏｒｄ ｌｏｎｇ")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=1024,t=1,p=1$abc$def",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "é" * 10,
        None,
    ],
)
def test_verify_never_raises_on_a_malformed_hash(hasher: Hasher, stored: Any) -> None:
    assert hasher.verify(stored, "Tr0ub4dor&3") is False


def test_verify_with_unencodable_password_is_false(hasher: Hasher) -> None:
    assert hasher.verify(hasher.hash(BASE[:12]), "\ud800abcdefgh") is False


def test_needs_rehash(hasher: Hasher) -> None:
    stored = hasher.hash(BASE[:12])
    assert hasher.needs_rehash(stored) is False
    assert Hasher.for_tests().needs_rehash(stored) is False
    assert Hasher(time_cost=2, memory_cost=1024, parallelism=1).needs_rehash(stored) is True
    assert Hasher(time_cost=1, memory_cost=2048, parallelism=1).needs_rehash(stored) is True
    assert Hasher(time_cost=1, memory_cost=1024, parallelism=2).needs_rehash(stored) is True
    assert Hasher().needs_rehash(stored) is True
    assert hasher.needs_rehash("garbage") is True
    assert hasher.needs_rehash(None) is True  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------

any_char = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]),
)
any_text = st.text(any_char, max_size=80)
password_like = st.text(
    st.one_of(st.characters(), st.sampled_from("aA1 -/.!@#qwerty0987")), min_size=6, max_size=70
)
contexts = st.builds(
    Context,
    national_id=st.one_of(st.just("N125830471"), any_text),
    msisdn=st.one_of(st.just("0928374651"), any_text),
    birth_date=st.one_of(st.none(), st.dates()),
    name=any_text,
)


@settings(max_examples=300, deadline=None)
@given(
    password=st.one_of(any_text, password_like),
    confirm=st.one_of(st.none(), any_text),
    context=contexts,
)
def test_check_raises_nothing_but_password_rejected(
    password: str, confirm: str | None, context: Context
) -> None:
    try:
        result = check(password, confirm=confirm, context=context)
    except PasswordRejected as error:
        assert error.code.startswith("password.")
    else:
        assert result == normalise(password)
        assert MIN_LENGTH <= len(result) <= MAX_LENGTH


@settings(max_examples=200, deadline=None)
@given(password=password_like)
def test_accepted_password_is_a_fixed_point(password: str) -> None:
    try:
        result = check(password, confirm=password)
    except PasswordRejected:
        return
    assert check(result, confirm=password) == result


@given(any_text)
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@settings(max_examples=50, deadline=None)
@given(any_text)
def test_verify_never_raises_for_arbitrary_stored_text(stored: str) -> None:
    assert Hasher.for_tests().verify(stored, "Tr0ub4dor&3") is False
