"""wizard/web/html_attributes.py writes exactly what WTForms' ``html_params`` writes, and the
widgets use it once the app is made."""

from __future__ import annotations

import itertools
import random

import pytest
from flask import Flask
from markupsafe import Markup
from wtforms.widgets import core

from wizard.web.html_attributes import WTFORMS_HTML_PARAMS, html_params

KEYS = ["name", "id", "class_", "for_", "data_hx_get", "aria_describedby", "aria_invalid",
        "autocomplete", "value", "type", "x_y_", "data_", "checked", "<odd&key>"]  # fmt: skip
VALUES: list[object] = [
    True,
    False,
    None,
    0,
    12,
    3.5,
    "",
    "plain",
    'a "quoted" <b>bold</b> & more',
    "it's",
    "中文 資料",
    Markup('already <em>safe</em> with "quotes"'),
    Markup("&amp; done"),
]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_one_attribute_as_wtforms_writes_it(key: str, value: object) -> None:
    ours, theirs = html_params(**{key: value}), WTFORMS_HTML_PARAMS(**{key: value})
    assert ours == theirs
    assert isinstance(ours, Markup)


def test_many_attributes_in_wtforms_order() -> None:
    pick = random.Random(14)
    for size in range(6):
        for keys in itertools.islice(itertools.combinations(KEYS, size), 200):
            attributes = {key: pick.choice(VALUES) for key in keys}
            assert html_params(**attributes) == WTFORMS_HTML_PARAMS(**attributes), attributes


def test_the_widgets_use_it_once_the_app_is_made(app: Flask) -> None:
    assert core.html_params is html_params
    assert core.Input.html_params is html_params
    with app.test_request_context("/register/personal"):
        from wizard.web.forms import PersonalForm

        form = PersonalForm()
        select = str(form.carrier(class_="x", aria_invalid="true"))
    assert select.startswith('<select aria-invalid="true" class="x" id="carrier" name="carrier"')
