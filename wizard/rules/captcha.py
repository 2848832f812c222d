"""CAPTCHA challenges for the registration form (驗證碼).

Two kinds: a distorted image of a few characters, and a short arithmetic question
as a text alternative for people who cannot read the image (WCAG 1.1.1). The
caller stores a challenge's ``kind`` and ``answer`` server-side and checks what
the user typed with :func:`matches`; this module only makes, renders and compares.
"""

from __future__ import annotations

import hmac
import io
import random
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

# Upper-case letters and digits minus the look-alike pairs 0/O, 1/I/L, 5/S, 2/Z, 8/B.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
LENGTH = 5

# Shown at its own size (300 x 96 CSS px, shrinking only on a screen narrower than that):
# capitals about 40 px tall with strokes of 4-5 px, legible for older eyes at arm's length.
WIDTH = 300
HEIGHT = 96
MAX_ANSWER_LENGTH = 8

# Grey levels (mode "L"). Black ink on white is 21:1, the most a screen can show (WCAG 1.4.6
# asks 7:1); the noise is mid-grey and only 1 px wide, so it never reads as part of a glyph
# stroke, yet crosses every glyph (it is still a CAPTCHA).
_BACKGROUND = 255
_INK = 0
_NOISE = 150
_MARGIN = 12
_MAX_FONT_SIZE = 60
_MAX_ROTATION = 18.0  # degrees; more makes N/Z-like confusions and hurts readability
_GLYPH_STROKE = 2  # thickens the regular-weight built-in font to a bold stroke

# Typed input longer than this cannot be right; don't spend time normalising it.
_MAX_TYPED = 64


class Kind(StrEnum):
    IMAGE = "image"
    TEXT = "text"  # the accessible alternative


@dataclass(frozen=True)
class Challenge:
    kind: Kind
    answer: str  # IMAGE: the characters, upper-case; TEXT: the number as ASCII digits
    prompt: str  # TEXT: question in Traditional Chinese; IMAGE: ""
    prompt_en: str  # TEXT: the same question in English; IMAGE: ""


_ZH_NUMERALS = "一二三四五六七八九"
_EN_NUMERALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# (Chinese, English) phrasings; both always name the first operand first.
_PLUS_TEMPLATES = (
    ("{a}加{b}等於多少？", "What is {a} plus {b}?"),
    ("{a}加上{b}是多少？", "How much is {a} plus {b}?"),
    ("請計算{a}加{b}。", "Please work out {a} plus {b}."),
)
_MINUS_TEMPLATES = (
    ("{a}減{b}等於多少？", "What is {a} minus {b}?"),
    ("{a}減去{b}是多少？", "How much is {a} minus {b}?"),
    ("請計算{a}減{b}。", "Please work out {a} minus {b}."),
)
_ZH_SUFFIX = "請以數字回答。"
_EN_SUFFIX = " Answer with digits."


def new_challenge(kind: Kind = Kind.IMAGE, rng: random.Random | None = None) -> Challenge:
    """Make a fresh challenge; ``rng`` is for tests, production uses the OS CSPRNG."""
    if rng is None:
        rng = secrets.SystemRandom()
    kind = Kind(kind)
    if kind is Kind.IMAGE:
        answer = "".join(rng.choice(ALPHABET) for _ in range(LENGTH))
        return Challenge(kind=kind, answer=answer, prompt="", prompt_en="")
    return _text_challenge(rng)


def _text_challenge(rng: random.Random) -> Challenge:
    a = rng.randint(1, 9)
    b = rng.randint(1, 9)
    if rng.random() < 0.5:
        result = a + b
        zh, en = rng.choice(_PLUS_TEMPLATES)
    else:
        a, b = max(a, b), min(a, b)  # keep the result non-negative
        result = a - b
        zh, en = rng.choice(_MINUS_TEMPLATES)
    prompt = zh.format(a=_ZH_NUMERALS[a - 1], b=_ZH_NUMERALS[b - 1]) + _ZH_SUFFIX
    prompt_en = en.format(a=_EN_NUMERALS[a - 1], b=_EN_NUMERALS[b - 1]) + _EN_SUFFIX
    return Challenge(kind=Kind.TEXT, answer=str(result), prompt=prompt, prompt_en=prompt_en)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's embedded scalable font (needs FreeType); no font files on disk.
    return ImageFont.load_default(size=size)


def _glyph_mask(char: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> Image.Image:
    """A tight "L" coverage mask of one character, thickened by a _GLYPH_STROKE px stroke."""
    left, top, right, bottom = font.getbbox(char, stroke_width=_GLYPH_STROKE)
    pad = 2
    mask = Image.new("L", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), 0)
    ImageDraw.Draw(mask).text(
        (pad - left, pad - top),
        char,
        fill=255,
        font=font,
        stroke_width=_GLYPH_STROKE,
        stroke_fill=255,
    )
    return mask


def render_png(answer: str, seed: int | None = None) -> bytes:
    """Render ``answer`` as a WIDTH x HEIGHT greyscale PNG; same (answer, seed), same bytes.

    With ``seed=None`` the distortion is fresh randomness each call.
    """
    if not answer or len(answer) > MAX_ANSWER_LENGTH:
        raise ValueError(f"answer must be 1..{MAX_ANSWER_LENGTH} characters")
    rng = random.Random(seed) if seed is not None else random.Random(secrets.randbits(64))

    image = Image.new("L", (WIDTH, HEIGHT), _BACKGROUND)
    slot = (WIDTH - 2 * _MARGIN) / len(answer)
    font = _font(min(_MAX_FONT_SIZE, int(slot * 1.15)))

    for index, char in enumerate(answer):
        mask = _glyph_mask(char, font).rotate(
            rng.uniform(-_MAX_ROTATION, _MAX_ROTATION),
            resample=Image.Resampling.BICUBIC,
            expand=True,
        )
        centre_x = _MARGIN + slot * (index + 0.5) + rng.uniform(-4, 4)
        centre_y = HEIGHT / 2 + rng.uniform(-7, 7)
        # Clamp so no glyph is cut off at the edges.
        x = min(max(0, round(centre_x - mask.width / 2)), max(0, WIDTH - mask.width))
        y = min(max(0, round(centre_y - mask.height / 2)), max(0, HEIGHT - mask.height))
        image.paste(_INK, (x, y, x + mask.width, y + mask.height), mask)

    _draw_noise(ImageDraw.Draw(image), rng)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _draw_noise(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    # A few 1 px lines spanning the image, crossing the glyphs, plus scattered dots.
    for _ in range(rng.randint(3, 4)):
        start = (rng.randint(0, WIDTH // 4), rng.randint(4, HEIGHT - 5))
        middle = (rng.randint(WIDTH // 3, 2 * WIDTH // 3), rng.randint(4, HEIGHT - 5))
        end = (rng.randint(3 * WIDTH // 4, WIDTH - 1), rng.randint(4, HEIGHT - 5))
        draw.line([start, middle, end], fill=_NOISE, width=1)
    dots = [(rng.randrange(WIDTH), rng.randrange(HEIGHT)) for _ in range(rng.randint(200, 290))]
    draw.point(dots, fill=_NOISE)


def _fold(text: str) -> str:
    """NFKC (full-width to ASCII), drop all whitespace, case-fold."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def matches(challenge_answer: str, typed: str) -> bool:
    """Whether ``typed`` is the answer, ignoring case, whitespace and full-width forms."""
    if not typed or len(typed) > _MAX_TYPED:
        return False
    expected = _fold(challenge_answer)
    given = _fold(typed)
    if not expected or not given:
        return False
    # compare_digest on str only accepts ASCII, so compare the UTF-8 bytes;
    # surrogatepass keeps lone surrogates from raising.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )
