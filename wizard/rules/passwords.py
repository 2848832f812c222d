"""Rules and hashing for the 憑證密碼 (certificate password).

NIST SP 800-63B 3.1.1.2 and OWASP ASVS 5 V6: the only composition rule is length
(8..64 Unicode code points; 8 is enough because the password is always used together
with a device credential). Every printable character is allowed, spaces included, and
the password is never stripped or truncated. Instead of "must contain a digit" rules
it is compared against common passwords and against what the person told us.

Pure module: standard library and argon2-cffi only.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import argon2
from argon2.exceptions import VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 64

BLOCKLIST_PATH = Path(__file__).resolve().parent / "data" / "common-passwords.txt"

# Cc/Cf as the spec says, plus lone surrogates (cannot be encoded, so cannot be hashed)
# and the Unicode line/paragraph separators, which are line breaks just like '\n'.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# Removed from the password before the pattern and "contains" comparisons.
_SEPARATORS = " -/."
_DROP_SEPARATORS = str.maketrans("", "", _SEPARATORS)
# Middle dots used between the parts of a name (Taiwanese indigenous and transliterated
# foreign names): U+00B7, U+2027 (common in Taiwan), U+30FB, U+2022, U+2219, U+22C5.
_NAME_SEPARATORS = re.compile(r"[\s\-/.\u00b7\u2027\u30fb\u2022\u2219\u22c5]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")

# Shift + key -> key on a US layout, so that '!QAZ@WSX' is seen as the walk '1qaz2wsx'.
_UNSHIFT = str.maketrans('~!@#$%^&*()_+{}|:"<>?', "`1234567890-=[]\\;',./")

# Strings typed by walking over the keyboard; any 4+ character piece of one of them,
# forwards or backwards, counts as a walk.
_KEYBOARD_WALKS = (
    "`1234567890-=",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "zaq12wsxcde34rfvbgt56yhnmju78ik,.lo90p;/",
    "1qazxsw23edcvfr45tgbnhy67ujm,ki89ol./;p0",
    "qazwsxedcrfvtgbyhnujmik,ol.p;/",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "1a2s3d4f5g6h7j8k9l0;",
    "a1s2d3f4g5h6j7k8l9;0",
    "1z2x3c4v5b6n7m8,9.0/",
    "qawsedrftgyhujikolp;",
    "azsxdcfvgbhnjmk,l.;/",
    "123qweasdzxc",
    "1234qwerasdfzxcv",
    "12345qwertasdfgzxcvb",
    # numeric keypad
    "7894561230",
    "7418529630",
    "1472583690",
    "123654789",
    "321654987",
)
_WALK_MIN = 4


class PasswordRejected(ValueError):
    """A password broke a rule; ``code`` is a message id, ``params`` its arguments.

    Never carries the password or the matched personal data, only what the message needs.
    """

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, object] = dict(params)

    def __repr__(self) -> str:
        return f"PasswordRejected({self.code!r}, **{self.params!r})"


@dataclass(frozen=True)
class Context:
    """What the person told us; a password must not contain it."""

    national_id: str = ""
    msisdn: str = ""
    birth_date: datetime.date | None = None
    name: str = ""


def normalise(password: str) -> str:
    """NFKC, as NIST recommends, so that e.g. full-width input hashes like half-width."""
    return unicodedata.normalize("NFKC", password)


def check(password: str, confirm: str | None = None, context: Context = Context()) -> str:
    """Return the normalised password or raise :class:`PasswordRejected`."""
    pw = normalise(password)
    if not pw:
        raise PasswordRejected("password.empty")
    length = len(pw)
    if length < MIN_LENGTH:
        raise PasswordRejected("password.too_short", min=MIN_LENGTH, length=length)
    if length > MAX_LENGTH:
        raise PasswordRejected("password.too_long", max=MAX_LENGTH, length=length)
    if any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in pw):
        raise PasswordRejected("password.control")
    if confirm is not None and normalise(confirm) != pw:
        raise PasswordRejected("password.mismatch")
    if is_common(pw):
        raise PasswordRejected("password.common")
    what = _contained_context(pw, context)
    if what is not None:
        raise PasswordRejected("password.contains", what=what)
    return pw


# --- common passwords ---------------------------------------------------------------


@functools.cache
def _blocklist() -> frozenset[str]:
    text = BLOCKLIST_PATH.read_text(encoding="utf-8")
    entries = (line.strip() for line in text.splitlines())
    return frozenset(_fold(e) for e in entries if e and not e.startswith("#"))


def _fold(text: str) -> str:
    return normalise(text).casefold()


def is_common(password: str) -> bool:
    """True if the password is on the blocklist or is a trivial pattern.

    Also looks at the password with separators (space - / .) removed, so that
    'pass word' or '1234-5678' are treated like 'password' and '12345678'.
    """
    folded = _fold(password)
    stripped = folded.translate(_DROP_SEPARATORS)
    if len(stripped) < _WALK_MIN:
        return True  # (almost) nothing but separators
    blocklist = _blocklist()
    candidates = {folded, stripped}
    if not candidates.isdisjoint(blocklist):
        return True
    candidates |= {c.translate(_UNSHIFT) for c in candidates}
    return any(_is_pattern(c, blocklist) for c in candidates)


def _is_pattern(s: str, blocklist: frozenset[str]) -> bool:
    if _is_run(s) or _is_walk(s):
        return True
    # A short block repeated ('abababab', '12341234') or a weak block repeated
    # ('qwertyqwerty', 'passwordpassword').
    for period in range(1, len(s) // 2 + 1):
        if s == (s[:period] * (len(s) // period + 1))[: len(s)]:
            unit = s[:period]
            return period <= 4 or _is_run(unit) or _is_walk(unit) or unit in blocklist
    return False


def _is_run(s: str) -> bool:
    """'12345678', '87654321', '78901234', 'abcdefgh', 'hgfedcba' ..."""
    if len(s) < 3:
        return False
    if s.isascii() and s.isdigit():
        size = 10
    elif s.isascii() and s.isalpha():
        size = 26
    else:
        return False
    steps = {(ord(b) - ord(a)) % size for a, b in itertools.pairwise(s)}
    return steps == {1} or steps == {size - 1}


def _is_walk(s: str) -> bool:
    if len(s) < _WALK_MIN:
        return False
    return any(s in walk or s in walk[::-1] for walk in _KEYBOARD_WALKS)


# --- personal data ------------------------------------------------------------------


def _contained_context(password: str, context: Context) -> str | None:
    """Name of the first context field found in the password, or None."""
    haystack = _fold(password).translate(_DROP_SEPARATORS)
    fields: tuple[tuple[str, Iterator[str]], ...] = (
        ("national_id", _national_id_forms(context.national_id)),
        ("msisdn", _msisdn_forms(context.msisdn)),
        ("birth_date", _birth_date_forms(context.birth_date)),
        ("name", _name_forms(context.name)),
    )
    for what, forms in fields:
        if any(form and form in haystack for form in forms):
            return what
    return None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch in "0123456789")


def _national_id_forms(national_id: str) -> Iterator[str]:
    nid = _fold(national_id).translate(_DROP_SEPARATORS)
    if len(nid) >= MIN_LENGTH:  # guard against junk: an ID is 10 characters
        yield nid
    digits = _digits(nid)
    if len(digits) >= MIN_LENGTH:
        yield digits


def _msisdn_forms(msisdn: str) -> Iterator[str]:
    digits = _digits(normalise(msisdn))
    if digits.startswith("886") and len(digits) == 12:  # +886 9xx xxx xxx
        digits = "0" + digits[3:]
    if len(digits) < MIN_LENGTH:
        return
    yield digits
    if digits.startswith("0"):
        yield digits[1:]
    yield digits[-8:]


def _birth_date_forms(birth_date: datetime.date | None) -> Iterator[str]:
    """YYYYMMDD, MMDDYYYY, DDMMYYYY, YYMMDD and the 民國 forms yyyMMdd / yyMMdd.

    The separated forms (YYYY/MM/DD, YYYY-MM-DD, YYYY.MM.DD) are covered because
    separators are removed from the password before comparing.
    """
    if birth_date is None:
        return
    y, m, d = f"{birth_date.year:04d}", f"{birth_date.month:02d}", f"{birth_date.day:02d}"
    yield y + m + d
    yield m + d + y
    yield d + m + y
    yield y[2:] + m + d
    roc = birth_date.year - 1911
    if roc > 0:
        yield f"{roc:03d}{m}{d}"
        yield f"{roc:02d}{m}{d}"


def _name_forms(name: str) -> Iterator[str]:
    words = [w for w in _NAME_SEPARATORS.split(_fold(name)) if w]
    full = "".join(words)
    if len(full) >= 2:
        yield full
    if len(words) >= 2:
        yield from (w for w in words if len(w) >= 3)
    elif 3 <= len(full) <= 4 and _CJK.fullmatch(full):
        # 王小明 -> 小明, 歐陽小明 -> 小明: the given name alone is just as guessable.
        yield full[-2:]


# --- hashing ------------------------------------------------------------------------


class Hasher:
    """argon2id (memory-hard) via argon2.PasswordHasher.

    The defaults are RFC 9106's second recommended option (t=3, 64 MiB, p=4).
    """

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )

    @classmethod
    def for_tests(cls) -> Hasher:
        """Cheap parameters; never use them for real passwords."""
        return cls(time_cost=1, memory_cost=1024, parallelism=1)

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalise(password))

    def verify(self, stored: str, password: str) -> bool:
        """False (never an exception) for a wrong password or a malformed stored hash."""
        if not isinstance(stored, str) or not isinstance(password, str):
            return False  # e.g. NULL from the database
        try:
            return self._hasher.verify(stored, normalise(password))
        except (VerificationError, ValueError):
            # VerifyMismatchError, InvalidHashError, UnicodeEncodeError
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True if the hash uses other parameters, or cannot be parsed at all."""
        if not isinstance(stored, str):
            return True
        try:
            return self._hasher.check_needs_rehash(stored)
        except ValueError:  # InvalidHashError, UnicodeEncodeError
            return True
