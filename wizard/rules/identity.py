"""Parsing, validation and masking of the identity data the wizard collects.

Pure functions only (standard library, no Flask, no database) so they can be
unit- and property-tested in isolation.  Every parser either returns a
normalised value or raises :class:`Invalid` with a stable error ``code`` that
the view layer turns into a localised message.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "NAME_MAX_LENGTH",
    "Invalid",
    "ParsedDate",
    "fold",
    "format_msisdn",
    "mask_msisdn",
    "mask_national_id",
    "national_id_checksum_ok",
    "parse_birth_date",
    "parse_msisdn",
    "parse_name",
    "parse_nhi_card",
]


class Invalid(ValueError):
    """A rejected input: a stable `code` (e.g. 'id.checksum') plus params for the message."""

    def __init__(self, code: str, **params: object) -> None:
        # Only `code` goes into args so the default exception pickling,
        # which replays args and then restores __dict__, round-trips params.
        super().__init__(code)
        self.code = code
        self.params: dict[str, object] = dict(params)

    def __str__(self) -> str:
        if not self.params:
            return self.code
        details = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{self.code} ({details})"


def fold(raw: str) -> str:
    """NFKC (folds full-width forms), drop all whitespace, upper-case."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace()).upper()


# Separators users type between digit groups.  NFKC has already turned the
# full-width forms into ASCII; these are the typographic dashes it leaves alone.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


def _strip_chars(text: str, chars: str) -> str:
    return text.translate({ord(ch): None for ch in chars})


# --------------------------------------------------------------------------
# National ID / resident certificate numbers
# --------------------------------------------------------------------------

_LETTER_VALUES: dict[str, int] = {
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34,
    "J": 18, "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25,
    "S": 26, "T": 27, "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
}  # fmt: skip

# Over (letter tens, letter units, positions 2..9, check digit).
_ID_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)

_ID_ALNUM = re.compile(r"[A-Z0-9]+", re.ASCII)
_EIGHT_DIGITS = re.compile(r"[0-9]{8}", re.ASCII)
_NATIONAL_ID = re.compile(r"[A-Z][12][0-9]{8}", re.ASCII)
_FOREIGN_NEW = re.compile(r"[A-Z][89][0-9]{8}", re.ASCII)
_FOREIGN_OLD = re.compile(r"[A-Z][A-D][0-9]{8}", re.ASCII)


def national_id_checksum_ok(nid: str) -> bool:
    """Checksum of a folded 10-character national ID or resident certificate number.

    Nationals (``A1…``/``A2…``) and new-format resident certificates
    (``A8…``/``A9…``) share one algorithm; old-format resident certificates
    (``AA…``-``AD…``) put the units digit of the second letter's value in
    position 2.  Anything else is False, never an exception.
    """
    if not isinstance(nid, str) or len(nid) != 10 or not nid.isascii():
        return False
    first = _LETTER_VALUES.get(nid[0])
    if first is None or not _EIGHT_DIGITS.fullmatch(nid[2:]):
        return False
    second = nid[1]
    if second in "1289":
        position2 = int(second)
    elif second in "ABCD":
        position2 = _LETTER_VALUES[second] % 10
    else:
        return False
    values = (first // 10, first % 10, position2, *(int(ch) for ch in nid[2:]))
    return sum(w * v for w, v in zip(_ID_WEIGHTS, values, strict=True)) % 10 == 0


def parse_national_id(raw: str) -> str:
    """Return the folded ID if `raw` is a valid national ID, else raise :class:`Invalid`.

    Resident certificate numbers with a valid checksum get their own codes
    ('id.foreign_new' / 'id.foreign_old') so the user can be told that this
    service is for nationals rather than that they mistyped.
    """
    nid = fold(raw)
    if not nid:
        raise Invalid("id.empty")
    if not _ID_ALNUM.fullmatch(nid):
        raise Invalid("id.characters")
    if len(nid) != 10:
        raise Invalid("id.length", length=len(nid))
    if nid[0] not in _LETTER_VALUES:
        raise Invalid("id.first_letter")
    foreign_shape = bool(_FOREIGN_NEW.fullmatch(nid) or _FOREIGN_OLD.fullmatch(nid))
    checksum_ok = national_id_checksum_ok(nid)
    if foreign_shape and checksum_ok:
        raise Invalid("id.foreign_new" if nid[1] in "89" else "id.foreign_old")
    if nid[1] not in "12" and not foreign_shape:
        raise Invalid("id.second_digit")
    if not foreign_shape and not _NATIONAL_ID.fullmatch(nid):
        raise Invalid("id.digits")
    if not checksum_ok:
        raise Invalid("id.checksum")
    return nid


def mask_national_id(nid: str) -> str:
    """'A123456789' -> 'A12345****': government convention, hide the last four."""
    visible = max(len(nid) - 4, 0)
    return nid[:visible] + "*" * (len(nid) - visible)


# --------------------------------------------------------------------------
# Mobile phone numbers
# --------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MSISDN = re.compile(r"09[0-9]{8}", re.ASCII)


def mask_name(name: str) -> str:
    """王小明 → 王*明, 王明 → 王*, "Chen Mei-Ling" → "C*** M******" (first letter of each word)."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _national_number(digits: str, international: bool) -> str:
    """Turn '886…' (country code) into the domestic '0…' form."""
    if not digits.startswith("886"):
        return digits
    rest = digits[3:]
    if international or rest.startswith("9"):
        # '+886 (0)912…' is a common way of writing it: drop the redundant 0.
        return rest if rest.startswith("0") else "0" + rest
    if rest.startswith("09"):
        return rest
    return digits


def parse_msisdn(raw: str) -> str:
    """Return a Taiwan mobile number as '09' + 8 digits, else raise :class:`Invalid`."""
    text = _strip_chars(fold(raw), _DASHES + ".()")
    if not text:
        raise Invalid("phone.empty")
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not _DIGITS.fullmatch(digits):
        raise Invalid("phone.characters")
    if international and not digits.startswith("886"):
        raise Invalid("phone.prefix")
    number = _national_number(digits, international)
    if len(number) != 10:
        raise Invalid("phone.length", length=len(number))
    if not _MSISDN.fullmatch(number):
        raise Invalid("phone.prefix")
    return number


def mask_msisdn(msisdn: str) -> str:
    """'0912345627' -> '09****27', the form used in the user manual."""
    if len(msisdn) < 5:
        return "****"
    return f"{msisdn[:2]}****{msisdn[-2:]}"


def format_msisdn(msisdn: str) -> str:
    """'0912345678' -> '0912-345678'; anything else is returned unchanged."""
    if not _MSISDN.fullmatch(msisdn):
        return msisdn
    return f"{msisdn[:4]}-{msisdn[4:]}"


# --------------------------------------------------------------------------
# National Health Insurance card numbers
# --------------------------------------------------------------------------

_NHI_CARD_LENGTH = 12


def parse_nhi_card(raw: str) -> str:
    """Return the 12-digit NHI card number, else raise :class:`Invalid`."""
    card = _strip_chars(fold(raw), _DASHES)
    if not card:
        raise Invalid("card.empty")
    if not _DIGITS.fullmatch(card):
        raise Invalid("card.characters")
    if len(card) != _NHI_CARD_LENGTH:
        raise Invalid("card.length", length=len(card))
    return card


# --------------------------------------------------------------------------
# Birth dates
# --------------------------------------------------------------------------

_ROC_OFFSET = 1911
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)

_ROC_PREFIX = re.compile(r"(?:中華)?民國")
_SEPARATED_DATE = re.compile(r"([0-9]{2,4})[/.\-]([0-9]{1,2})[/.\-]([0-9]{1,2})", re.ASCII)
_CJK_DATE = re.compile(r"([0-9]{1,4})年([0-9]{1,2})月([0-9]{1,2})日?", re.ASCII)
_COMPACT_DATE = re.compile(r"([0-9]{3,4})([0-9]{2})([0-9]{2})", re.ASCII)


@dataclass(frozen=True)
class ParsedDate:
    value: datetime.date
    roc: bool  # True when read as a 民國 (Republic of China era) year

    def display(self) -> str:
        """'YYYY/MM/DD' (built by hand: strftime pads years < 1000 per platform)."""
        v = self.value
        return f"{v.year:04d}/{v.month:02d}/{v.day:02d}"


def _read_date(text: str) -> tuple[int, int, int, bool] | None:
    """Split folded text into (year, month, day, roc), or None if unreadable.

    A 4-digit year is Gregorian; 1-3 digits ('69', '069', '100') are 民國.
    An explicit 民國 prefix requires a 民國 year.
    """
    prefixed = _ROC_PREFIX.match(text)
    if prefixed:
        text = text[prefixed.end() :]
    for pattern in (_SEPARATED_DATE, _CJK_DATE, _COMPACT_DATE):
        match = pattern.fullmatch(text)
        if match:
            year, month, day = match.groups()
            roc = len(year) < 4
            if prefixed and not roc:
                return None
            return int(year), int(month), int(day), roc
    return None


def parse_birth_date(raw: str, today: datetime.date) -> ParsedDate:
    """Read a Gregorian or 民國 birth date, which must lie in [1900-01-01, today)."""
    text = fold(raw)
    if not text:
        raise Invalid("date.empty")
    parts = _read_date(text)
    if parts is None:
        raise Invalid("date.format")
    year, month, day, roc = parts
    if roc:
        if year == 0:  # there is no 民國 year 0
            raise Invalid("date.invalid", text=text)
        year += _ROC_OFFSET
    try:
        value = datetime.date(year, month, day)
    except ValueError:
        raise Invalid("date.invalid", text=text) from None
    if value < _EARLIEST_BIRTH:
        raise Invalid("date.too_old")
    if value >= today:
        raise Invalid("date.future")
    return ParsedDate(value=value, roc=roc)


# --------------------------------------------------------------------------
# Real names
# --------------------------------------------------------------------------

NAME_MAX_LENGTH = 50
_MIDDLE_DOT = "\u00b7"
_JOINERS = "'-" + _MIDDLE_DOT  # allowed only between letters
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs"})

# Variants folded to the one form we store.  Beyond the middle dots, the
# typographic apostrophe (iOS "smart punctuation" replaces ' with it) and the
# full-width forms an IME in full-width mode produces.
_NAME_FOLDS = str.maketrans(
    {
        "\u2027": _MIDDLE_DOT,  # ‧ hyphenation point (Big5's middle dot)
        "\u30fb": _MIDDLE_DOT,  # ・ katakana middle dot
        "\uff65": _MIDDLE_DOT,  # ･ half-width katakana middle dot
        "\uff0e": _MIDDLE_DOT,  # ． full-width full stop
        "\u2019": "'",  # ’ right single quotation mark
        "\uff07": "'",  # ＇ full-width apostrophe
        "\u2010": "-",  # ‐ hyphen
        "\u2011": "-",  # ‑ non-breaking hyphen
        "\uff0d": "-",  # － full-width hyphen-minus
    }
)
_SPACED_DOT = re.compile(f" ?{_MIDDLE_DOT} ?")


def _is_future_ideograph(ch: str) -> bool:
    """Unassigned code point in planes 2/3, which Unicode reserves for CJK ideographs.

    Python's Unicode database lags the standard (3.11 has Unicode 14), so a
    rare character from a newer CJK extension would otherwise look unassigned
    (Cn) and a real person's name would be rejected.
    """
    cp = ord(ch)
    return 0x20000 <= cp <= 0x3FFFF and (cp & 0xFFFF) < 0xFFFE


def _is_letter(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] == "L" or (category == "Cn" and _is_future_ideograph(ch))


def _is_letter_or_mark(ch: str) -> bool:
    return _is_letter(ch) or unicodedata.category(ch)[0] == "M"


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in _CONTROL_CATEGORIES and not _is_future_ideograph(ch)


def _offending_name_chars(name: str) -> list[str]:
    """Characters of a normalised name that are not allowed where they stand."""
    bad: list[str] = []
    last = len(name) - 1
    for i, ch in enumerate(name):
        if _is_letter(ch) or ch == " ":
            continue
        after_letter = i > 0 and _is_letter_or_mark(name[i - 1])
        if unicodedata.category(ch)[0] == "M" and after_letter:
            continue
        if ch in _JOINERS and after_letter and i < last and _is_letter(name[i + 1]):
            continue
        bad.append(ch)
    return bad


def parse_name(raw: str) -> str:
    """Normalise and validate a real name, else raise :class:`Invalid`.

    NFC, not NFKC: the name must stay as typed (full-width letters, rare
    characters).  Whitespace runs become one space, middle-dot variants '·'.
    """
    # Before any normalisation, so stripping cannot hide e.g. a trailing NUL.
    if any(_is_control(ch) for ch in raw):
        raise Invalid("name.control")
    name = " ".join(unicodedata.normalize("NFC", raw).translate(_NAME_FOLDS).split())
    name = _SPACED_DOT.sub(_MIDDLE_DOT, name)
    if not name:
        raise Invalid("name.empty")
    bad = _offending_name_chars(name)
    if bad:
        raise Invalid("name.characters", chars="".join(dict.fromkeys(bad)))
    if len(name) > NAME_MAX_LENGTH:
        raise Invalid("name.length", max=NAME_MAX_LENGTH)
    return name
