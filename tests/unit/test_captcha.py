"""Tests for wizard.rules.captcha: challenges, rendering and answer comparison."""

from __future__ import annotations

import io
import random
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageFont

from wizard.rules import captcha
from wizard.rules.captcha import (
    ALPHABET,
    LENGTH,
    Challenge,
    Kind,
    matches,
    new_challenge,
    render_png,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Independent of the module's own tables on purpose.
ZH_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
EN_DIGITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}


def _solve_zh(prompt: str) -> int:
    numbers = [ZH_DIGITS[ch] for ch in prompt if ch in ZH_DIGITS]
    assert len(numbers) == 2, prompt
    has_plus, has_minus = "加" in prompt, "減" in prompt
    assert has_plus != has_minus, prompt
    a, b = numbers
    return a + b if has_plus else a - b


def _solve_en(prompt: str) -> int:
    words = re.findall(r"[a-z]+", prompt.lower())
    numbers = [EN_DIGITS[w] for w in words if w in EN_DIGITS]
    assert len(numbers) == 2, prompt
    has_plus, has_minus = "plus" in words, "minus" in words
    assert has_plus != has_minus, prompt
    a, b = numbers
    return a + b if has_plus else a - b


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


# --- alphabet -----------------------------------------------------------------


def test_alphabet_has_no_look_alikes() -> None:
    for ch in "0O1IL5S2Z8B":
        assert ch not in ALPHABET


def test_alphabet_is_upper_case_ascii_without_duplicates() -> None:
    assert set(ALPHABET) <= set(string.ascii_uppercase + string.digits)
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert len(ALPHABET) >= 20  # enough entropy: 20**5 = 3.2 million


# --- new_challenge ------------------------------------------------------------


def test_image_challenge_default() -> None:
    challenge = new_challenge()
    assert challenge.kind is Kind.IMAGE
    assert len(challenge.answer) == LENGTH == 5
    assert set(challenge.answer) <= set(ALPHABET)
    assert challenge.prompt == ""
    assert challenge.prompt_en == ""


@pytest.mark.parametrize("seed", range(50))
def test_image_challenge_seeded(seed: int) -> None:
    challenge = new_challenge(Kind.IMAGE, random.Random(seed))
    assert len(challenge.answer) == LENGTH
    assert all(ch in ALPHABET for ch in challenge.answer)
    assert challenge.answer == challenge.answer.upper()


def test_image_challenges_differ_without_rng() -> None:
    answers = {new_challenge().answer for _ in range(20)}
    assert len(answers) > 1


def test_kind_accepts_stored_string_value() -> None:
    # The site stores kind as text in the database.
    assert new_challenge(Kind("text"), random.Random(1)).kind is Kind.TEXT
    assert Kind.IMAGE == "image"
    assert Kind.TEXT == "text"


@pytest.mark.parametrize("seed", range(200))
def test_text_challenge_answer_is_right(seed: int) -> None:
    challenge = new_challenge(Kind.TEXT, random.Random(seed))
    assert challenge.kind is Kind.TEXT
    assert challenge.answer.isascii() and challenge.answer.isdigit()
    expected = _solve_zh(challenge.prompt)
    assert expected >= 0
    assert int(challenge.answer) == expected
    assert _solve_en(challenge.prompt_en) == expected
    assert challenge.prompt.endswith("請以數字回答。")
    assert challenge.prompt_en.endswith("Answer with digits.")
    assert challenge.prompt_en.isascii()


def test_text_challenge_covers_both_operations_and_several_phrasings() -> None:
    rng = random.Random(7)
    challenges = [new_challenge(Kind.TEXT, rng) for _ in range(300)]
    assert any("加" in c.prompt for c in challenges)
    assert any("減" in c.prompt for c in challenges)
    # Phrasing varies: strip the numerals and see more than one shape per operation.
    shapes = {re.sub("[一二三四五六七八九]", "#", c.prompt) for c in challenges}
    assert len({s for s in shapes if "加" in s}) >= 2
    assert len({s for s in shapes if "減" in s}) >= 2
    assert any(c.answer == "0" for c in challenges)  # a - a is allowed


def test_example_from_the_spec_is_reachable() -> None:
    wanted = Challenge(
        kind=Kind.TEXT,
        answer="12",
        prompt="七加五等於多少？請以數字回答。",
        prompt_en="What is seven plus five? Answer with digits.",
    )
    rng = random.Random(0)
    assert any(new_challenge(Kind.TEXT, rng) == wanted for _ in range(5000))


@pytest.mark.parametrize("kind", list(Kind))
def test_new_challenge_is_deterministic_with_seeded_random(kind: Kind) -> None:
    first = [new_challenge(kind, random.Random(42)) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    rng_a, rng_b = random.Random(99), random.Random(99)
    assert [new_challenge(kind, rng_a) for _ in range(10)] == [
        new_challenge(kind, rng_b) for _ in range(10)
    ]


def test_challenge_is_frozen() -> None:
    challenge = new_challenge(rng=random.Random(3))
    with pytest.raises(AttributeError):
        challenge.answer = "AAAAA"  # type: ignore[misc]


# --- render_png ---------------------------------------------------------------


def test_builtin_font_is_scalable() -> None:
    # Without FreeType, load_default() silently falls back to a tiny bitmap font.
    assert isinstance(captcha._font(40), ImageFont.FreeTypeFont)


def test_render_png_is_a_valid_png_of_the_right_size() -> None:
    png = render_png("ACDEF", seed=1)
    assert png.startswith(PNG_SIGNATURE)
    image = _open(png)
    assert image.format == "PNG"
    assert image.mode in {"L", "RGB", "RGBA", "P"}
    assert image.size == (captcha.WIDTH, captcha.HEIGHT) == (300, 96)


def test_render_png_same_seed_same_bytes() -> None:
    assert render_png("HK7RP", seed=123) == render_png("HK7RP", seed=123)


def test_render_png_different_seeds_differ() -> None:
    outputs = {render_png("HK7RP", seed=seed) for seed in range(10)}
    assert len(outputs) == 10


def test_render_png_different_answers_differ() -> None:
    assert render_png("HK7RP", seed=5) != render_png("HK7RQ", seed=5)


def test_render_png_without_seed_varies() -> None:
    assert len({render_png("HK7RP") for _ in range(5)}) > 1


def test_render_png_draws_the_glyphs() -> None:
    blank = _open(render_png("A", seed=1)).convert("L")
    full = _open(render_png("WMKHN", seed=1)).convert("L")
    dark = sum(full.histogram()[:80])
    # Five bold capitals about 40 px tall cover well over 1000 pixels;
    # noise alone (1 px lines and dots, lighter than the ink) would not reach this.
    assert dark > 1000
    assert dark > 2 * sum(blank.histogram()[:80])


def test_render_png_contrast() -> None:
    image = _open(render_png("QX4TN", seed=8)).convert("L")
    darkest, lightest = image.getextrema()
    assert lightest >= 235  # light background
    assert darkest <= 40  # dark ink


def test_render_png_glyphs_stay_inside_the_image() -> None:
    # No ink touching the left or right edge: glyphs are not clipped.
    for seed in range(30):
        image = _open(render_png("WWWWW", seed=seed)).convert("L")
        width, height = image.size
        for x in (0, width - 1):
            column = [image.getpixel((x, y)) for y in range(height)]
            assert min(column) > 40, (seed, x)


@pytest.mark.parametrize("answer", ["", "ABCDEFGHJ"])
def test_render_png_rejects_bad_lengths(answer: str) -> None:
    with pytest.raises(ValueError):
        render_png(answer, seed=1)


def test_render_png_accepts_text_answers() -> None:
    # Harmless if the site ever renders a TEXT answer (digits) as an image.
    assert _open(render_png("12", seed=1)).size == (captcha.WIDTH, captcha.HEIGHT)


# --- matches ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "typed", "expected"),
    [
        ("ACDEF", "ACDEF", True),
        ("ACDEF", "acdef", True),
        ("ACDEF", "AcDeF", True),
        ("ABCDE", "ＡＢＣＤＥ", True),  # full-width
        ("ABCDE", "ａｂｃｄｅ", True),  # full-width lower-case
        ("ACDEF", " ACDEF ", True),
        ("ACDEF", "A C D E F", True),
        ("ACDEF", "AC\tDE\nF", True),
        ("ACDEF", "ACD\u3000EF", True),  # ideographic space
        ("12", "12", True),
        ("12", "１２", True),
        ("12", " 1 2 ", True),
        ("ACDEF", "ACDEG", False),
        ("ACDEF", "ACDE", False),
        ("ACDEF", "ACDEFF", False),
        ("12", "十二", False),
        ("12", "13", False),
        ("ACDEF", "", False),
        ("ACDEF", "   ", False),
        ("ACDEF", "\u3000", False),
        ("", "", False),
        ("", "ACDEF", False),
    ],
)
def test_matches_table(answer: str, typed: str, expected: bool) -> None:
    assert matches(answer, typed) is expected


def test_matches_rejects_absurdly_long_input() -> None:
    assert matches("ACDEF", "ACDEF" + " " * 1000) is False


def test_matches_round_trip_with_new_challenge() -> None:
    rng = random.Random(11)
    for kind in Kind:
        for _ in range(20):
            challenge = new_challenge(kind, rng)
            assert matches(challenge.answer, challenge.answer)
            assert matches(challenge.answer, challenge.answer.lower())


@given(typed=st.text())
def test_matches_never_raises(typed: str) -> None:
    assert matches("ACDEF", typed) in (True, False)


@given(answer=st.text(), typed=st.text(st.characters(exclude_categories=())))
def test_matches_never_raises_even_with_surrogates(answer: str, typed: str) -> None:
    assert matches(answer, typed) in (True, False)


@given(st.text(alphabet=ALPHABET, min_size=LENGTH, max_size=LENGTH))
def test_matches_accepts_any_case_and_width(answer: str) -> None:
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in answer.lower())
    assert matches(answer, answer.lower())
    assert matches(answer, full_width)


# --- legible for older eyes (issue 13): measured, not looked at --------------------------------

#: Darker than this is ink; the noise (150) and most anti-aliasing are lighter.
INK_BELOW = 100


def _luminance(grey: int) -> float:
    """WCAG relative luminance of a grey level."""
    channel = grey / 255
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _contrast(a: int, b: int) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _glyph_columns(image: Image.Image) -> list[range]:
    """The image's x range cut into LENGTH equal slots between the margins, one per glyph."""
    slot = (image.width - 2 * captcha._MARGIN) / LENGTH
    return [
        range(int(captcha._MARGIN + i * slot), int(captcha._MARGIN + (i + 1) * slot))
        for i in range(LENGTH)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_render_png_glyphs_are_large_bold_and_high_contrast(seed: int) -> None:
    answer = new_challenge(rng=random.Random(seed)).answer
    image = _open(render_png(answer, seed=seed)).convert("L")
    pixels = image.load()
    ink, background = image.getextrema()
    assert _contrast(background, ink) >= 7.0  # WCAG 1.4.6 (AAA) for the glyphs themselves
    assert (
        _contrast(background, captcha._NOISE) < _contrast(background, ink) / 4
    )  # noise is fainter

    runs: list[int] = []
    for columns in _glyph_columns(image):
        rows = [y for y in range(image.height) if any(pixels[x, y] < INK_BELOW for x in columns)]
        assert rows, (answer, seed)
        assert rows[-1] - rows[0] + 1 >= 36, (
            f"glyph of {answer!r} only {rows[-1] - rows[0] + 1} px tall"
        )
        for y in rows:
            run = 0
            for x in columns:
                if pixels[x, y] < INK_BELOW:
                    run += 1
                elif run:
                    runs.append(run)
                    run = 0
            if run:
                runs.append(run)
    runs.sort()
    assert runs[len(runs) // 2] >= 3, f"strokes {runs[len(runs) // 2]} px wide: too thin to read"
