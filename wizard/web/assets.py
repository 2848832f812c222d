"""Static files under content-hashed names, cached for a year, served from memory (gzip ready).

At start every file under ``static/`` is read once and given a name with the first
``HASH_LENGTH`` hex digits of its SHA-256 before its extension: ``asset_url('css/site.css')``
in a template gives ``/static/css/site.3f9a1c2b7d4e.css``. A changed file gets a new name, so
the hashed URL can be cached for good: ``Cache-Control: public, max-age=31536000, immutable``
(a phone on a slow network fetches htmx once, not on every page). Pages stay ``no-store``
(``wizard.web.security``, which also adds its headers to these responses).

The plain name (``/static/css/site.css``) and a stale hash of an existing file (a page from a
host still running the previous release, during a rolling deploy) still get the current file,
but ``Cache-Control: no-cache`` with its hash as ETag: revalidated on every use, never kept
under the wrong name. Anything else is 404. Only the files found at start are served, by a
dictionary lookup (no path from the request ever reaches the file system). With ``DEBUG`` on
the folder is scanned again when a file changed, so edits show without a restart.

Our own CSS and JavaScript are served without their comments and indentation (:func:`compact`,
a conservative strip that leaves every rule and statement alone; vendored files are served as
pinned): the comments explain the code to us, a phone need not download them. Each text file is
also gzipped once (level 9) and sent so to clients that accept it, with
``Vary: Accept-Encoding``: no secrets, so no BREACH question (see ``wizard.web.compression``).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import Flask, Response, current_app, request, url_for

from wizard.web.compression import COMPRESSIBLE, accepts_gzip, gzip_bytes

HASH_LENGTH = 12
#: Entity tags (for the plain names' revalidation): 80 bits of the SHA-256 are plenty.
ETAG_LENGTH = 20
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_NOT_FOUND = {"Cache-Control": "no-store"}

#: A hash where ``hashed_name`` puts one: before the last extension of the last path segment.
_HASH_IN_NAME = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}(?=(\.[^./]+)?$)")


@dataclass(frozen=True)
class Asset:
    """One static file as served: its bytes, gzipped bytes (when smaller) and hashed name."""

    path: str
    hashed: str
    digest: str
    mimetype: str
    body: bytes
    gzipped: bytes | None
    stamp: tuple[int, int]


def hashed_name(path: str, digest: str) -> str:
    """``css/site.css`` → ``css/site.<digest>.css`` (``LICENSE`` → ``LICENSE.<digest>``)."""
    pure = PurePosixPath(path)
    stem, suffix = (pure.stem, pure.suffix) if pure.suffix else (pure.name, "")
    return str(pure.with_name(f"{stem}.{digest[:HASH_LENGTH]}{suffix}"))


_CSS_COMMENT = re.compile(rb"/\*.*?\*/", re.S)
_SPACE = re.compile(rb"\s+")
_SPACE_AROUND_PUNCTUATION = re.compile(rb"\s*([{};])\s*")
#: Whole-line ``//`` comments and indentation only: nothing inside a line is touched, so no
#: string or regular expression can be cut.
_JS_COMMENT_LINE = re.compile(rb"^[ \t]*//[^\n]*\n", re.M)
_INDENT = re.compile(rb"^[ \t]+", re.M)


def compact(path: str, body: bytes) -> bytes:
    """``body`` as served: our CSS and JS without comments and indentation (not ``vendor/``)."""
    if path.startswith("vendor/"):
        return body
    if path.endswith(".css"):
        body = _CSS_COMMENT.sub(b"", body)
        return _SPACE_AROUND_PUNCTUATION.sub(rb"\1", _SPACE.sub(b" ", body)).strip()
    if path.endswith(".js"):
        return _INDENT.sub(b"", _JS_COMMENT_LINE.sub(b"", body))
    return body


def _load(folder: Path, file: Path) -> Asset:
    path = file.relative_to(folder).as_posix()
    body = compact(path, file.read_bytes())
    digest = hashlib.sha256(body).hexdigest()
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    gzipped = gzip_bytes(body, level=9) if mimetype in COMPRESSIBLE else None
    if gzipped is not None and len(gzipped) >= len(body):
        gzipped = None
    stat = file.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    return Asset(path, hashed_name(path, digest), digest, mimetype, body, gzipped, stamp)


class Manifest:
    """Every file under one folder, by its plain and its hashed name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.by_path: dict[str, Asset] = {}
        self.by_hashed: dict[str, Asset] = {}
        self.scan()

    def _files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file())

    def scan(self) -> None:
        assets = [_load(self.folder, file) for file in self._files()]
        self.by_path = {asset.path: asset for asset in assets}
        self.by_hashed = {asset.hashed: asset for asset in assets}

    def changed(self) -> bool:
        """A file was added, removed or modified since the last scan (used with DEBUG on)."""
        stamps = {}
        for file in self._files():
            stat = file.stat()
            stamps[file.relative_to(self.folder).as_posix()] = (stat.st_mtime_ns, stat.st_size)
        return stamps != {path: asset.stamp for path, asset in self.by_path.items()}

    def url_name(self, path: str) -> str:
        try:
            return self.by_path[path].hashed
        except KeyError:
            raise LookupError(f"no static file {path!r} under {self.folder}") from None

    def find(self, filename: str) -> tuple[Asset, bool] | None:
        """The asset a request names, and whether by its current hashed name."""
        if filename in self.by_hashed:
            return self.by_hashed[filename], True
        plain = self.by_path.get(filename) or self.by_path.get(_HASH_IN_NAME.sub("", filename))
        return (plain, False) if plain is not None else None


def _manifest() -> Manifest:
    manifest: Manifest = current_app.extensions["assets"]
    if current_app.debug and manifest.changed():
        manifest.scan()
    return manifest


def asset_url(path: str) -> str:
    """Template global: the hashed URL of the static file ``path`` (relative to static/)."""
    return url_for("static", filename=_manifest().url_name(path))


def serve(filename: str) -> Response:
    """The ``static`` endpoint's view (replaces Flask's ``send_static_file``)."""
    found = _manifest().find(filename)
    if found is None:
        # Plain text: the friendly error page needs the page context, which the static
        # endpoint skips (wizard.i18n), so rendering it here would fail with a 500.
        return Response("Not Found\n", 404, mimetype="text/plain", headers=_NOT_FOUND)
    asset, current = found
    encoded = asset.gzipped is not None and accepts_gzip()
    response = Response(asset.gzipped if encoded else asset.body, mimetype=asset.mimetype)
    if asset.gzipped is not None:
        response.vary.add("Accept-Encoding")
    if encoded:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(asset.digest[:ETAG_LENGTH] + ("-gzip" if encoded else ""))
    response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    assert app.static_folder is not None
    app.extensions["assets"] = Manifest(Path(app.static_folder))
    app.view_functions["static"] = serve
    app.jinja_env.globals["asset_url"] = asset_url
