"""Issue 13 item 8: a meta description on public pages; the dev server logs each request once."""

from __future__ import annotations

import logging
import re

from flask.testing import FlaskClient

from wizard.ops.operations import DROP_WERKZEUG_REQUEST_LINE


def test_public_pages_have_a_meta_description_in_both_languages(client: FlaskClient) -> None:
    for path in ("/login", "/login?lang=en"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        found = re.search(r'<meta name="description" content="([^"]{40,})">', html)
        assert found, path
    assert "Bureau of Labor Insurance" in found.group(1)


def test_werkzeug_request_line_dropped_but_its_other_lines_kept(client: FlaskClient) -> None:
    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, (), None)

    assert not DROP_WERKZEUG_REQUEST_LINE.filter(
        record('127.0.0.1 - - [06/Dec/2026 15:00:09] "GET /login HTTP/1.1" 200 -')
    )
    assert DROP_WERKZEUG_REQUEST_LINE.filter(record("Press CTRL+C to quit"))
    assert DROP_WERKZEUG_REQUEST_LINE in logging.getLogger("werkzeug").filters
