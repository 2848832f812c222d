"""Full page or HTMX partial, decided in one place.

Each step template starts with ``{% extends layout %}``: for an HTMX request (but not a history
restore) ``layout`` is ``partial.html`` (the main region and a ``<title>``), otherwise the full
``layout.html``. Same URL, same template, same context.
"""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request


def is_htmx() -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, status: int = 200, **context: object) -> Response:
    """Render ``template`` as a partial or a full page and mark the response accordingly."""
    htmx = is_htmx()
    body = render_template(template, layout="partial.html" if htmx else "layout.html", **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    if htmx:
        if request.method == "GET":
            # After a redirect the browser's XHR ends on this GET: record its URL in history.
            response.headers["HX-Push-Url"] = request.full_path.rstrip("?")
        else:
            # A form shown again with its errors stays at the URL it was posted to.
            response.headers["HX-Push-Url"] = "false"
    return response


def full_redirect(url: str) -> Response:
    """A redirect that reloads the whole page, also for HTMX requests: used where the header
    must change too (logged in or out), which a swap of the main region would leave stale."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
