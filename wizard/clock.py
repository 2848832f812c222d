"""The server's clock, replaceable in tests so expiries can be tested without sleeping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app

#: Where every date and time shown to a person is read (the server keeps UTC).
TAIPEI = ZoneInfo("Asia/Taipei")


def local_time(moment: dt.datetime, fmt: str = "%H:%M") -> str:
    """``moment`` on Taipei's clock, as ``fmt`` (HH:MM unless told)."""
    return moment.astimezone(TAIPEI).strftime(fmt)


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


class OffsetFileClock:
    """The system clock moved by the seconds written in a file (negative: backwards; no file
    or an empty one: not moved), read at every call. The fault tests move a running gunicorn's
    clock with it (tests/faults/test_clock.py); config.check refuses it in production and with
    a real carrier gateway. Only this clock moves: the cookie signatures and CSRF tokens keep
    the real time."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def offset(self) -> dt.timedelta:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return dt.timedelta(0)
        return dt.timedelta(seconds=float(text or 0))

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset()


def now() -> dt.datetime:
    """Current aware UTC time from the app's clock."""
    return current_app.extensions["clock"].now()


def init_app(app, clock: SystemClock | FrozenClock | None = None) -> None:  # type: ignore[no-untyped-def]
    offset_file = app.config.get("CLOCK_OFFSET_FILE")
    if clock is None and offset_file:
        clock = OffsetFileClock(str(offset_file))  # type: ignore[assignment]
    app.extensions["clock"] = clock or SystemClock()
