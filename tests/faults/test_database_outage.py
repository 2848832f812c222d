"""Fault 3: PostgreSQL stopped for 10 seconds during registrations, then started again,
while gunicorn runs on untouched."""

from __future__ import annotations

import re
import threading
import time
from html import unescape

from tests.faults.conftest import MakeSite
from tests.faults.drive import Crowd
from tests.faults.people import (
    ELIGIBLE_IDS,
    HX,
    ONCE,
    PASSWORD,
    Ledger,
    Page,
    Person,
    ledger,
)
from tests.faults.postgres import Cluster
from tests.helpers import FIXED_CAPTCHA

OUTAGE_SECONDS = 10
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(page: Page) -> dict[str, str]:
    return {name: unescape(value) for name, value in _HIDDEN.findall(page.text)}


def assert_clear_outage_page(page: Page, english: bool = False) -> None:
    assert page.status == 503, page
    assert page.headers["Retry-After"] == "10"
    if english:
        assert "The service is briefly unavailable: please try again" in page.text
        assert "the steps you completed before are all kept" in page.text
    else:
        assert "系統暫時忙碌，請稍後再試" in page.text
        assert "您先前完成的步驟都還保留著" in page.text
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "SELECT", "UPDATE"):
        assert leak not in page.text, leak


class ReadinessProbe(threading.Thread):
    """GET /readyz every 0.2 s: when it failed and when it answered ready again."""

    def __init__(self, site_ready) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.site_ready = site_ready
        self.answers: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            status, _body = self.site_ready()
            self.answers.append((time.monotonic(), status))


def test_a_database_outage_loses_nothing_and_heals_itself(
    make_site: MakeSite, cluster: Cluster
) -> None:
    """Running: gunicorn with 2 workers on PostgreSQL; three people registering at a
    person's pace (0.3 s between requests); a person who has filled in step 2, a person
    reading the site in English at step 3, a desktop waiting at step 4, a verified person
    about to bind their browser (step 6); /readyz probed
    every 0.2 s.

    Injected: PostgreSQL stopped (pg_ctl stop -m fast: sessions cut mid-transaction) for
    10 s, then started again. gunicorn is not touched.

    Checked: while it is down every page is a clear 503 "please try again" (zh-TW, or English
    for who chose it), with Retry-After and no stack trace; the step-2 form sent meanwhile
    comes back as a 再試一次 form holding what was typed (never the passwords or the
    CAPTCHA), which goes through once the database is back; step 6 sent meanwhile wrote
    nothing (no binding, no session, not marked bound) and binds once afterwards; the
    waiting desktop's poll gets 204 (keeps waiting); /readyz says 503 "database". After
    the restart the same workers (no restart, none died) serve again at once, and every
    registration completed exactly once: no binding without its account, session and
    verified registration.
    """
    site = make_site(workers=2, clock_offset=True)
    server = site.server
    workers_before, master_before = server.workers(), server.master
    filler, english, waiting = (Person(site.base, n) for n in ELIGIBLE_IDS[:3])
    filler.walk_to("personal")
    step2 = filler.desktop.get("/register/personal")
    english.desktop.get("/login?lang=en")
    english.walk_to("device")
    waiting.walk_to("open")
    binder = Person(site.base, ELIGIBLE_IDS[3])
    binder.walk_to("bind")
    done_page = binder.desktop.get("/register/done")

    probe = ReadinessProbe(server.ready)
    probe.start()
    crowd = Crowd([Person(site.base, n) for n in ELIGIBLE_IDS[4:]], pause=0.3).start()
    time.sleep(0.8)
    cluster.stop("fast")
    stopped = time.monotonic()
    try:
        # Step 2 sent while the database is down.
        sent = {"csrf_token": step2.csrf(), **filler.personal_data, "captcha": FIXED_CAPTCHA}
        refused = filler.desktop.post("/register/personal", sent)
        assert_clear_outage_page(refused)
        kept = hidden_fields(refused)
        assert {k: kept.get(k) for k in ("carrier", "msisdn", "nhi_card", "name")} == {
            k: filler.personal_data[k] for k in ("carrier", "msisdn", "nhi_card", "name")
        }
        assert kept["birth_date"] == filler.personal_data["birth_date"]
        assert not {"password", "password_confirm", "captcha"} & set(kept)
        assert PASSWORD not in refused.text
        assert "基於安全，密碼與驗證碼不會保留" in refused.text
        # A page, in English for who chose English.
        assert_clear_outage_page(english.desktop.get("/register/device"), english=True)
        # Step 6 (bind this browser) sent meanwhile: refused whole.
        assert_clear_outage_page(
            binder.desktop.post("/register/bind", {"csrf_token": done_page.csrf()})
        )
        # The waiting desktop keeps waiting.
        poll = waiting.desktop.get("/register/qr/status?seen=waiting:", HX)
        assert (poll.status, poll.headers["Retry-After"]) == (204, "10")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    finally:
        cluster.start()
    restarted = time.monotonic()

    # Nothing restarted gunicorn: the first request after the database is back succeeds.
    page = filler.desktop.get("/register/personal")
    first_answer = time.monotonic() - restarted
    assert page.status == 200
    resent = {**kept, "csrf_token": page.csrf(), "password": PASSWORD}
    resent.update(password_confirm=PASSWORD, captcha=FIXED_CAPTCHA)
    answer = filler.desktop.post("/register/personal", resent)
    assert (answer.status, answer.location) == (303, "/register/device")
    filler.stage = "device"
    english.stage = "device"
    # Nothing of the refused binding was written: verified, not bound, no session.
    assert ledger(site.database_url)[binder.national_id] == Ledger(1, 0, 1, 1, 0, 0)
    Crowd([filler, english, waiting, binder]).start().join()
    crowd.join()
    probe.stop.set()
    probe.join()
    if crowd.stuck:  # a check claimed just before the stop: its claim lapses after 60 s
        site.move_clock(61)
        Crowd(crowd.stuck).start().join()

    assert server.master == master_before and server.workers() == workers_before
    people = [filler, english, waiting, binder, *crowd.people]
    assert all(person.done for person in people)
    assert ledger(site.database_url) == {p.national_id: ONCE for p in people}
    for person in crowd.people:
        for error in person.error_pages:
            assert error.status == 503, error
            if error.headers.get("Content-Type", "").startswith("text/html"):
                assert_clear_outage_page(error)
    down = [t for t, status in probe.answers if status == 503 and t >= stopped]
    ready_again = [t for t, status in probe.answers if status == 200 and t >= restarted]
    assert down and ready_again, probe.answers
    assert all(status in (200, 503) for _t, status in probe.answers)
    print(
        f"\ndatabase outage: {OUTAGE_SECONDS} s; {crowd.error_pages()} requests of the"
        f" three in flight answered 503, {crowd.dropped()} unanswered, none 500;"
        f" /readyz 503 {len(down)} times; after the restart the first page in"
        f" {first_answer:.2f} s and /readyz ready in {ready_again[0] - restarted:.2f} s,"
        f" no worker restarted; {len(crowd.stuck)} check(s) waited for their claim;"
        f" 7/7 registrations completed once"
    )
