"""WTForms' ``html_params`` (a tag's attributes) with the same output, made with plain strings.

Every form field's tag goes through ``wtforms.widgets.core.html_params``, which formats each
attribute with ``Markup('{k}="{v}"').format(...)``: markupsafe's formatter is Python's
``string.Formatter``, so every attribute costs a parse of the format string and an escaping
formatter. Step 2 has about 90 attributes (nine fields, the carrier list's options), and that
formatting was about a quarter of its CPU (bench/hotspots.py). Here each attribute is one
f-string of escaped text.

The output is the same, byte for byte: keys sorted and cleaned by WTForms' own ``clean_key``,
``True`` as a bare attribute, ``False`` left out, keys and values escaped, and a double quote
inside a value that was already Markup written ``&quot;``.
``tests/unit/test_html_attributes.py`` compares the two on many inputs.

``install()`` puts it where WTForms' widgets look for it: the ``html_params`` of the module
its widgets' code lives in (Select, TextArea and the options call that name) and the
``html_params`` hook of ``Input`` (every ``<input>`` type). WTForms' own function is kept as
``WTFORMS_HTML_PARAMS``, for the test.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms.widgets import core

#: WTForms' own, before ``install()``.
WTFORMS_HTML_PARAMS = core.html_params


def html_params(**kwargs: Any) -> Markup:
    params = []
    for key, value in sorted(kwargs.items()):
        key = core.clean_key(key)  # WTForms' own: ``class_`` → class, ``data_x_y`` → data-x-y
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            text = str(escape(value))
            if '"' in text:  # only a Markup value keeps a raw quote: escape() passes it on
                text = text.replace('"', "&quot;")
            params.append(f'{escape(key)}="{text}"')
    return Markup(" ".join(params))


def install() -> None:
    """Make WTForms' widgets render their attributes with ``html_params`` above."""
    core.html_params = html_params  # type: ignore[assignment]
    core.Input.html_params = staticmethod(html_params)  # type: ignore[method-assign,assignment]
