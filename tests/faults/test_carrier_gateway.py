"""Fault 4: the carrier gateway slow, failing or cutting connections, under gunicorn.

tests/web/test_carrier_http.py checks the client (wizard/carrier/http.py) attempt by attempt
and step 2 through the test client; this is the end-to-end shape: real gunicorn workers, a
real gateway server on loopback, step 5 tapped on a phone, and the registrations' ledger.
"""

from __future__ import annotations

import threading
import time

from tests.faults.conftest import MakeSite
from tests.faults.gateway import TOKEN, FakeGateway, fake_gateway
from tests.faults.people import (
    ELIGIBLE_IDS,
    HX,
    ONCE,
    Page,
    Person,
    captcha_from_database,
    ledger,
    scalar,
)

TIMEOUT, RETRIES, BACKOFF = 1.0, 2, 0.1
#: What the phone says when the carrier did not decide (wizard/web/messages.py network.unavailable).
NO_ANSWER = "電信業者目前沒有回應，驗證沒有完成，您的資料都已保留。請稍候再按一次「開始驗證」。"


def tap(person: Person, fake: FakeGateway) -> tuple[Page, list[str], float]:
    """開始驗證 once: the answer, the request IDs of the attempts the gateway saw, seconds."""
    page = person.phone.get("/phone/verify")
    assert page.status == 200, page
    seen = len(fake.checks())
    started = time.monotonic()
    answer = person.phone.post("/phone/verify", person.verify_form(page))
    took = time.monotonic() - started
    return answer, [a.request_id for a in fake.checks()[seen:]], took


def test_a_failing_gateway_is_retried_within_bounds_and_verifies_once(
    make_site: MakeSite,
) -> None:
    """Running: gunicorn with 2 workers, CARRIER_GATEWAY=http against a gateway server on
    loopback (1 s per attempt, 2 retries, 0.1 s backoff); two people at step 5, their
    phones holding the QR hand-off.

    Injected, one tap each: the gateway silent past the timeout; answering 500; answering
    503; closing the connection without an answer; then silent past the timeout once and
    answering the retry; and for the second person a double tap (two tabs at once) while
    the gateway takes 0.5 s.

    Checked: each failed tap ends within the bound (3 attempts at most: about 3.3 s), every
    attempt of one tap carries the same request_id, a 500 is not retried, the phone says
    clearly that the carrier did not answer and to tap again, the desktop's status says so
    too, a failed attempt does not count against the person; the retry that got through
    verifies; the double tap asks the carrier once; each registration completed exactly once.
    """
    with fake_gateway() as fake:
        site = make_site(
            workers=2,
            CARRIER_GATEWAY="http",
            CARRIER_GATEWAY_URL=fake.url,
            CARRIER_GATEWAY_TOKEN=TOKEN,
            CARRIER_GATEWAY_TIMEOUT=TIMEOUT,
            CARRIER_GATEWAY_RETRIES=RETRIES,
            CARRIER_GATEWAY_BACKOFF=BACKOFF,
            CAPTCHA_FIXED_ANSWER=None,  # refused with a real gateway: read the real one
        )
        captcha = captcha_from_database(site.database_url)
        first, second = (Person(site.base, n, captcha=captcha) for n in ELIGIBLE_IDS[:2])
        first.walk_to("verify")
        second.walk_to("verify")
        assert [a.endpoint for a in fake.attempts] == ["precheck", "precheck"]
        bound = RETRIES + 1
        longest = TIMEOUT * bound + BACKOFF * (2**RETRIES - 1) + 3.0  # + the site, on a busy CI

        figures = []
        for behaviour, attempts in (
            ({"mode": "slow", "delay": 3.0}, bound),
            ({"mode": "error", "status": 500}, 1),
            ({"mode": "error", "status": 503}, bound),
            ({"mode": "drop"}, bound),
        ):
            fake.set(**behaviour)
            answer, ids, took = tap(first, fake)
            assert answer.status == 200 and NO_ANSWER in answer.text, (behaviour, answer)
            assert "Traceback" not in answer.text
            assert len(ids) == attempts and len(set(ids)) == 1, (behaviour, ids)
            assert took < longest, (behaviour, took)
            figures.append(f"{behaviour['mode']} {behaviour.get('status', '')}".strip())
            figures[-1] += f": {len(ids)} attempt(s), {took:.1f} s"
            status = first.desktop.get("/register/qr/status?seen=", HX)
            assert "手機上的驗證沒有成功" in status.text and "電信業者目前沒有回應" in status.text

        failures = scalar(
            site.database_url,
            "SELECT verify_failures FROM registration WHERE national_id = :id AND step = 'qr'",
            id=first.national_id,
        )
        assert failures == 0, "the carrier not answering counted against the person"

        # Silent past the timeout once, then the retry (same request_id) gets the answer.
        fake.set(mode="slow", delay=TIMEOUT + 0.5, times=1)
        answer, ids, took = tap(first, fake)
        assert answer.status == 200 and "驗證成功" in answer.text, answer
        assert len(ids) == 2 and len(set(ids)) == 1
        figures.append(f"slow once: verified on attempt 2, {took:.1f} s")

        # A double tap while the carrier takes 0.5 s: one check.
        fake.set(mode="slow", delay=0.5)
        page = second.phone.get("/phone/verify")
        seen = len(fake.checks())
        answers: list[Page] = []

        def press() -> None:
            answers.append(second.phone.post("/phone/verify", second.verify_form(page)))

        taps = [threading.Thread(target=press) for _ in range(2)]
        for thread in taps:
            thread.start()
        for thread in taps:
            thread.join(10)
        assert len(fake.checks()) - seen == 1, "the double tap asked the carrier twice"
        assert sorted(a.status for a in answers) == [200, 303]
        assert any("驗證成功" in a.text for a in answers)

        for person in (first, second):
            person.stage = "poll"
            person.run(time.monotonic() + 30)
    assert ledger(site.database_url) == {p.national_id: ONCE for p in (first, second)}
    print("\ncarrier gateway: " + "; ".join(figures) + "; double tap: 1 check; 2/2 once")
