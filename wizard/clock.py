"""The server's clock, replaceable in tests so expiries can be tested without sleeping."""

from __future__ import annotations

import datetime as dt

from flask import current_app


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FrozenClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


def now() -> dt.datetime:
    """Current aware UTC time from the app's clock."""
    return current_app.extensions["clock"].now()


def init_app(app, clock: SystemClock | FrozenClock | None = None) -> None:  # type: ignore[no-untyped-def]
    app.extensions["clock"] = clock or SystemClock()
