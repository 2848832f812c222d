"""Fault 1: gunicorn workers killed (SIGKILL) in the middle of registrations."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.faults.conftest import MakeSite
from tests.faults.drive import Crowd
from tests.faults.people import ELIGIBLE_IDS, ONCE, Person, handoff_statuses, ledger

KILLS = 3


#: x86-64 and arm64 numbers of nanosleep / clock_nanosleep, what time.sleep blocks in.
_SLEEP_SYSCALLS = {"35", "230", "101", "115"}


def _asleep(pid: int) -> bool:
    """Whether ``pid`` is blocked in a timed sleep: the kernel's wait channel says
    hrtimer_nanosleep, or (where wchan reads 0, as some kernels and sandboxes give it) the
    blocking system call is nanosleep or clock_nanosleep."""
    try:
        if Path(f"/proc/{pid}/wchan").read_text().strip() == "hrtimer_nanosleep":
            return True
        return Path(f"/proc/{pid}/syscall").read_text().split(" ", 1)[0] in _SLEEP_SYSCALLS
    except OSError:
        return False


def worker_in_carrier_check(pids: list[int]) -> int | None:
    """A worker asleep in the simulated carrier's latency (time.sleep), i.e. serving a step-5
    check; idle workers wait in select/poll."""
    return next((pid for pid in pids if _asleep(pid)), None)


def test_a_sleeping_process_is_recognised() -> None:
    """The detector the test below depends on, checked on this machine's kernel first: a
    process in time.sleep is seen asleep, a busy one is not."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        deadline = time.monotonic() + 5
        while not _asleep(sleeper.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _asleep(sleeper.pid)
        assert not _asleep(busy.pid)
    finally:
        sleeper.kill()
        busy.kill()
        sleeper.wait()
        busy.wait()


def test_killed_workers_lose_no_registration(make_site: MakeSite) -> None:
    """Running: gunicorn with 2 sync workers on PostgreSQL; seven people registering at once,
    each with a desktop and a phone (steps 1-6), the simulated carrier taking 1 s per check.

    Injected: three times, SIGKILL to the worker that is inside a carrier check (step 5, the
    worst moment: the check is claimed, the answer not yet written).

    Checked: gunicorn replaces every killed worker; the requests the kills cut got no answer
    and the person simply tried again; a phone whose check died says 驗證進行中 and can go on
    once the 60 s claim of the dead check has lapsed (the server's clock is moved past it
    rather than waiting); in the end every registration completed exactly once.
    """
    site = make_site(workers=2, clock_offset=True, SIM_LATENCY=1.0)
    server = site.server
    crowd = Crowd([Person(site.base, national_id) for national_id in ELIGIBLE_IDS], pause=0.2)
    crowd.start()
    killed: list[int] = []
    while len(killed) < KILLS and crowd.running():
        victim = worker_in_carrier_check([p for p in server.workers() if p not in killed])
        if victim is None:
            time.sleep(0.01)
            continue
        server.kill_worker(victim)
        last_kill = time.monotonic()
        killed.append(victim)
    server.wait_for_workers(exclude=set(killed))
    respawned = time.monotonic() - last_kill
    crowd.join()

    assert len(killed) == KILLS, "not every kill found a carrier check under way"
    assert crowd.dropped() >= KILLS, "each kill cut the request its worker was serving"
    workers = server.workers()
    assert len(workers) == 2 and not set(workers) & set(killed)
    assert server.process is not None and server.process.poll() is None, "the master lives on"
    # Each killed check left its hand-off claimed: those phones wait, saying so.
    assert len(crowd.stuck) == KILLS
    assert handoff_statuses(site.database_url).get("checking") == KILLS
    for person in crowd.stuck:
        assert person.stuck_page is not None
        assert "驗證進行中，請稍候。" in person.stuck_page.text

    site.move_clock(61)  # the dead checks' claims lapse after 60 s
    again = Crowd(crowd.stuck).start()
    again.join()
    assert not again.stuck, [(p.national_id, p.pages[-3:]) for p in again.stuck]

    assert all(person.done for person in crowd.people)
    assert ledger(site.database_url) == {p.national_id: ONCE for p in crowd.people}
    print(
        f"\nworker kill: {KILLS} workers killed mid-check, {crowd.dropped()} requests cut,"
        f" all {len(server.workers())} workers back {respawned:.1f} s after the last kill;"
        " 7/7 registrations completed once"
    )
