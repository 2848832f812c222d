"""投保證明分享碼: making, showing and reading a share code (pure: no Flask, no database).

A code is :data:`LENGTH` (9) characters of :data:`ALPHABET`, 31 letters and digits with none
that are read or typed as another (no 0/O, 1/I/L), shown in groups of three: ``K7P-Q4M-X9T``.
That is 31**9, about 2**44.6, codes. It is safe only with what surrounds it (docs, "Share
codes"): a code is checked only together with the person's 身分證號, it lives at most 90 days
and is used at most a few times, its guesses are counted per code and per checking
institution (at most 100 consecutive failures), and the check is rate limited. An
institution guessing at its failure cap finds a given person's live code with a probability
below 10 shares × 100 / 31**9 ≈ 4e-11.

People read codes over the phone and type them from a screen or paper: :func:`parse` takes
lower case, full-width characters (an IME left on), spaces and any dash, and says which rule a
malformed code broke.
"""

from __future__ import annotations

import math
import secrets
import unicodedata

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 9
GROUP = 3
#: log2 of the number of codes (about 44.6).
BITS = LENGTH * math.log2(len(ALPHABET))
_SEPARATORS = frozenset(" -‐‑‒–—―−_.")


class MalformedCode(ValueError):
    """``code`` is one of "empty", "length", "characters"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def new() -> str:
    """A fresh code, ungrouped (``K7PQ4MX9T``), from the operating system's CSPRNG."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def show(code: str) -> str:
    """Grouped for reading aloud: ``K7P-Q4M-X9T``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def parse(raw: str) -> str:
    """The canonical code from what a person typed, or :class:`MalformedCode`."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    kept = "".join(ch for ch in text if ch not in _SEPARATORS and not ch.isspace())
    if not kept:
        raise MalformedCode("empty")
    if any(ch not in ALPHABET for ch in kept):
        raise MalformedCode("characters")
    if len(kept) != LENGTH:
        raise MalformedCode("length")
    return kept
