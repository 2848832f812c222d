"""`make bench`: the benchmarks of issue 6, side by side in one run, printed as tables.

    .venv/bin/python bench/run.py [--seconds 5] [--workers 2] [--only steps,login,people,desktops]

Starts a throw-away PostgreSQL (bench/cluster.py), prepares an instance with init-db, imports
eligible simulator subscribers, and starts two gunicorns with the same settings: the site and
the bare Flask app (bench/bare_app.py, the ceiling). Then, in turn:

1. the ceiling (plain response, small template), every wizard step's GET and POST and the
   step 4 poll (bench/steps.py), the four-field login (bench/login.py), and the ceiling again;
2. argon2id alone in ``workers`` processes (the ceiling of step 2's POST and of the login);
3. full registrations by simulated people at rising concurrency (bench/people.py);
4. 1,000 desktops polling step 4 every 2 s (bench/desktops.py);
5. one worker's memory over 10,000 mixed requests (bench/memory.py).

Then issue 14's goals (bench/goals.py): each verdict printed, and the exit status is 1 when
one is missed, so a slower page fails `make bench` loudly.

The machine is shared and noisy: compare the ratios, measured minutes apart in one run. The
ceiling is measured before and after the request benchmarks; their mean is the reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cluster, desktops, goals, memory, people, steps  # noqa: E402
from bench.common import (  # noqa: E402
    GUNICORN_SETTINGS,
    ROOT,
    cpu_seconds,
    free_port,
    gunicorn,
    prepare,
    settle,
    wait_up,
    worker_pids,
)
from bench.login import hash_ceiling, login_benchmark, make_bound_account  # noqa: E402

if TYPE_CHECKING:
    from bench import pools  # imported in main(), once the servers' settings are in os.environ

#: The preparing app (in this process) hashes cheaply, as the tests do; the servers do not.
CHEAP_ARGON2 = {
    "FLASK_ARGON2_TIME_COST": "1",
    "FLASK_ARGON2_MEMORY_COST": "1024",
    "FLASK_ARGON2_PARALLELISM": "1",
}
LEVELS = (1, 2, 4, 8, 16, 32, 64, 128)
#: A level breaks when a step's p99 passes this (a person would think it hangs), or a whole
#: registration's p95 passes BROKEN_WHOLE_S.
BROKEN_P99_MS = 5_000
BROKEN_WHOLE_S = 15.0
POLLING_DESKTOPS = 1000


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def ceiling(bare: str, seconds: int, cpu_of: Callable[[], float]) -> list[steps.Result]:
    """The bare app's plain response and small template, with its workers' CPU."""
    return [
        steps.run(
            bare, name, "GET", [steps.Item(path)], (200, "", ""), seconds, True, cpu_of=cpu_of
        )
        for name, path in (
            ("bare Flask: plain", "/plain"),
            ("bare Flask: small template", "/template"),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per request benchmark")
    parser.add_argument("--level-seconds", type=int, default=12, help="per concurrency level")
    parser.add_argument("--poll-seconds", type=int, default=20, help="1,000 desktops polling")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="steps,login,people,desktops,memory")
    args = parser.parse_args()
    only = set(args.only.split(","))
    report = Report(args.workers)
    with cluster.postgres() as database:
        url = database.url
        say("PostgreSQL up; init-db")
        tmp, env = prepare("bench-", url, FLASK_CAPTCHA_FIXED_ANSWER="BENCH")
        device_cookie = make_bound_account(env) if "login" in only else ""
        os.environ.update(env)
        os.environ.update(CHEAP_ARGON2)
        from bench import pools
        from wizard import create_app

        app = create_app()
        preparer = pools.Preparer(app)
        say("importing simulator subscribers")
        # 11,000 for the request pools, 1,001 for the polling desktops, the rest for people
        # (about 1,500 at ~8 registrations/s here).
        persons = iter(pools.import_people(app, 19000))
        polling = [next(persons) for _ in range(POLLING_DESKTOPS + 1)]
        site_port, bare_port = free_port(), free_port()
        servers = [
            gunicorn("wsgi:app", site_port, args.workers, env, ROOT, tmp / "site.pid"),
            gunicorn(
                "bare_app:app", bare_port, args.workers, env, ROOT / "bench", tmp / "bare.pid"
            ),
        ]
        try:
            site, bare = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{bare_port}"
            wait_up(site + "/healthz")
            wait_up(bare + "/plain")

            def server_cpu() -> float:
                """The site's gunicorn workers and the database's processes."""
                return cpu_seconds(worker_pids(tmp / "site.pid") + database.pids())

            def bare_cpu() -> float:
                return cpu_seconds(worker_pids(tmp / "bare.pid"))

            say("ceiling")
            report.ceilings.append(ceiling(bare, args.seconds, bare_cpu))
            if "steps" in only:
                say("each step's GET and POST")
                report.requests += steps.step_benchmarks(
                    site, preparer, [next(persons) for _ in range(11000)], args.seconds, server_cpu
                )
            if "login" in only:
                say("four-field login")
                page, login = login_benchmark(site, device_cookie, tmp, args.seconds, server_cpu)
                nan = float("nan")
                report.requests += [
                    steps.Result(
                        "7 登入: GET /login (bound browser, four fields)",
                        page[0],
                        steps.ms(page[1]),
                        nan,
                        0,
                        page[2],
                    ),
                    steps.Result(
                        "7 登入: POST /login/device (argon2id verify)",
                        login[0],
                        steps.ms(login[1]),
                        nan,
                        0,
                        login[2],
                    ),
                ]
            say("ceiling again")
            report.ceilings.append(ceiling(bare, args.seconds, bare_cpu))
            if "steps" in only or "login" in only or "people" in only:
                say("argon2id alone")
                report.argon2 = hash_ceiling(args.seconds, args.workers)
            if "people" in only:
                for level in LEVELS:
                    say(f"registrations: {level} people at a time")
                    settle(server_cpu)
                    before = server_cpu()
                    result = people.run_level(
                        "127.0.0.1", site_port, persons, level, level_seconds(report, args)
                    )
                    result.server_cpu = server_cpu() - before
                    report.levels.append(result)
                    if report.broken(result):
                        break
            if "desktops" in only:
                say(f"{POLLING_DESKTOPS} desktops at step 4")
                waiting = preparer.pool(preparer.walk("qr", polling[0]), polling[1:])
                settle(server_cpu)
                report.polling = desktops.run(
                    "127.0.0.1",
                    site_port,
                    [w["desktop"] for w in waiting],
                    args.poll_seconds,
                    url,
                    server_cpu,
                )
            if "memory" in only:
                say("one worker, 10,000 mixed requests")
                report.memory = one_worker_memory(preparer, persons, env, tmp, servers)
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=15)
            shutil.rmtree(tmp, ignore_errors=True)  # the instance and the request logs
    report.print()
    raise SystemExit(exit_status(report))


def exit_status(report: Report) -> int:
    """1 when a goal of issue 14 is missed (after the tables are printed), else 0."""
    missed = [v for v in report.verdicts() if not v.met]
    for verdict in missed:
        print(f"make bench: goal missed: {verdict.what}", file=sys.stderr)
    return 1 if missed else 0


def one_worker_memory(
    preparer: pools.Preparer,
    persons: Iterator[dict[str, str]],
    env: dict[str, str],
    tmp: Path,
    servers: list[subprocess.Popen[bytes]],
) -> list[tuple[int, int]]:
    """A gunicorn of its own with one worker (added to ``servers``, stopped with them)."""
    mixed = memory.mixed(preparer, persons)
    port = free_port()
    servers.append(gunicorn("wsgi:app", port, 1, env, ROOT, tmp / "single.pid"))
    wait_up(f"http://127.0.0.1:{port}/healthz")
    return memory.run(port, mixed, lambda: worker_pids(tmp / "single.pid")[0])


def level_seconds(report: Report, args: argparse.Namespace) -> float:
    """Long enough for each person to register about three times at the next level (twice as
    many people as the last): short levels would count mostly ramp-up and drain."""
    if not report.levels or not report.levels[-1].durations:
        return args.level_seconds
    typical = _quantiles(report.levels[-1].durations)[0]
    return min(60.0, max(args.level_seconds, 3 * 2 * typical))


class Report:
    """Everything measured, and the tables `make bench` prints (and the README keeps)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.ceilings: list[list[steps.Result]] = []
        self.requests: list[steps.Result] = []
        #: argon2id alone: verifications per second, CPU ms per verification.
        self.argon2: tuple[float, float] | None = None
        self.levels: list[people.Level] = []
        self.break_reason = ""
        self.polling: desktops.Polling | None = None
        #: (requests answered, RSS KiB) of one worker, bench/memory.py.
        self.memory: list[tuple[int, int]] = []

    def broken(self, level: people.Level) -> bool:
        """Errors, or latency past BROKEN_P99_MS for a step or BROKEN_WHOLE_S in all."""
        worst = max(level.percentiles().items(), key=lambda item: item[1][2], default=None)
        if level.errors or not level.durations:
            self.break_reason = f"{len(level.errors)} errors at {level.concurrency} people"
        elif worst and worst[1][2] > BROKEN_P99_MS:
            self.break_reason = (
                f"at {level.concurrency} people the p99 of {worst[0]} is "
                f"{worst[1][2] / 1000:.1f} s (limit {BROKEN_P99_MS / 1000:.0f} s)"
            )
        elif _quantiles(level.durations)[1] > BROKEN_WHOLE_S:
            self.break_reason = (
                f"at {level.concurrency} people a whole registration's p95 is "
                f"{_quantiles(level.durations)[1]:.1f} s (limit {BROKEN_WHOLE_S:.0f} s)"
            )
        return bool(self.break_reason)

    def knee(self) -> people.Level | None:
        """The lowest error-free concurrency within 10% of the best error-free rate."""
        clean = [x for x in self.levels if not x.errors]
        if not clean:
            return None
        best = max(x.rate for x in clean)
        return next(x for x in clean if x.rate >= 0.9 * best)

    def ceiling_means(self) -> tuple[steps.Result, steps.Result]:
        """The plain response and the small template, averaged over their runs."""
        runs = len(self.ceilings)
        plain, small = (
            steps.Result(
                name,
                sum(c[i].rate for c in self.ceilings) / runs,
                sum(c[i].p50_ms for c in self.ceilings) / runs,
                sum(c[i].p99_ms for c in self.ceilings) / runs,
                sum(c[i].count for c in self.ceilings),
                sum(c[i].cpu_ms for c in self.ceilings) / runs,
            )
            for i, name in enumerate(("bare Flask, plain response", "bare Flask, small template"))
        )
        return plain, small

    def verdicts(self) -> list[goals.Verdict]:
        """Issue 14's goals against what this run measured (bench/goals.py)."""
        out: list[goals.Verdict] = []
        if self.ceilings and self.requests:
            small = self.ceiling_means()[1]
            out += goals.requests([(r.name, r.cpu_ms) for r in self.requests], small.cpu_ms)
        knee = self.knee()
        if knee is not None and knee.completed and self.argon2:
            per = knee.server_cpu * 1000 / knee.completed
            out.append(goals.registration(per, self.argon2[1]))
        if len(self.memory) > 1:
            out.append(goals.memory(self.memory))
        return out

    def print(self) -> None:
        print()
        print(
            f"{dt.date.today()}, {machine()}, loopback; {self.workers} gunicorn workers "
            f"({GUNICORN_SETTINGS}); PostgreSQL {cluster.version()} on the same machine."
        )
        runs = len(self.ceilings)
        if runs:
            self._print_requests(runs)
        if self.levels:
            self._print_levels()
        if self.polling and runs:
            small = self.ceiling_means()[1]
            self._print_polling(small.rate, small.cpu_ms)
        if self.memory:
            self._print_memory()
        verdicts = self.verdicts()
        if verdicts:
            print()
            print("\n".join(goals.report(verdicts)))

    def _print_memory(self) -> None:
        print()
        print(f"One worker's resident memory (VmRSS) after a {memory.WARM_UP}-request warm-up:")
        print()
        print("| requests after the warm-up | RSS MiB | vs the first |")
        print("|---|---|---|")
        first = self.memory[0][1]
        for count, kib in self.memory:
            print(f"| {count:,} | {kib / 1024:.1f} | {kib - first:+,} KiB |")

    def _print_requests(self, runs: int) -> None:
        plain, small = self.ceiling_means()
        print()
        print(
            "| request (wrk -t2 -c16; each POST on a registration of its own) | req/s "
            "| p50 ms | p99 ms | req/s vs small template | server CPU ms/req "
            "| CPU vs small template | CPU vs argon2id alone |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in (plain, small, *self.requests):
            vs_hash = ""
            if "argon2id" in r.name and self.argon2:
                vs_hash = f"{self.argon2[1] / r.cpu_ms:.2f}"
            p99 = "" if r.p99_ms != r.p99_ms else f"{r.p99_ms:,.0f}"
            cpu = "" if r.cpu_ms != r.cpu_ms else f"{r.cpu_ms:.2f}"
            vs_cpu = "" if r.cpu_ms != r.cpu_ms else f"{small.cpu_ms / r.cpu_ms:.2f}"
            print(
                f"| {r.name} | {r.rate:,.1f} | {r.p50_ms:,.1f} | {p99} "
                f"| {r.rate / small.rate:.2f} | {cpu} | {vs_cpu} | {vs_hash} |"
            )
        if self.argon2:
            print(
                f"| argon2id verify alone, {self.workers} processes (production parameters) "
                f"| {self.argon2[0]:.1f} | | | | {self.argon2[1]:.2f} | | 1.00 |"
            )
        spread = ", ".join(f"{c[1].rate:,.0f}" for c in self.ceilings)
        print(f"\nSmall template req/s in its {runs} runs: {spread} (the mean is the reference).")

    def _print_levels(self) -> None:
        print()
        print(
            "| people at a time | registrations/s | vs argon2id alone (req/s) | errors "
            "| whole registration p50 / p95 s | server CPU (share of one core) "
            "| server CPU per registration | argon2id's share of it | client CPU |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for x in self.levels:
            whole = _quantiles(x.durations or [0.0])
            vs = f"{x.rate / self.argon2[0]:.2f}" if self.argon2 else ""
            per = x.server_cpu * 1000 / x.completed if x.completed else float("nan")
            share = f"{self.argon2[1] / per:.2f}" if self.argon2 and x.completed else ""
            print(
                f"| {x.concurrency} | {x.rate:.2f} | {vs} | {len(x.errors)} "
                f"| {whole[0]:.2f} / {whole[1]:.2f} | {x.server_cpu / x.seconds:.0%} "
                f"| {per:,.0f} ms | {share} | {x.client_cpu / x.seconds:.0%} |"
            )
        knee = self.knee()
        errors = [e for x in self.levels for e in x.errors][:3]
        if errors:
            print(f"\nFirst errors: {errors}")
        if knee is None:
            return
        best = max(x.rate for x in self.levels if not x.errors)
        print(
            f"\nKnee: {knee.concurrency} people at a time ({knee.rate:.2f} registrations/s; "
            f"the best level gave {best:.2f}): past it the throughput stays flat and latency "
            f"grows with the queue. Broke: {self.break_reason or 'not within the levels run'}. "
            "Per step at the knee and at the last level run:"
        )
        last = self.levels[-1]
        print()
        print(
            f"| step | p50 / p95 / p99 ms at {knee.concurrency} "
            f"| p50 / p95 / p99 ms at {last.concurrency} |"
        )
        print("|---|---|---|")
        at_knee, at_last = knee.percentiles(), last.percentiles()
        for step in people.STEPS:
            cells = [
                " / ".join(f"{v:,.0f}" for v in table[step]) if step in table else ""
                for table in (at_knee, at_last)
            ]
            print(f"| {step} | {cells[0]} | {cells[1]} |")

    def _print_polling(self, small_rate: float, small_cpu_ms: float) -> None:
        p = self.polling
        assert p is not None
        polls = max(p.answered, 1)
        per_poll = p.server_cpu * 1000 / polls
        wrong = ", ".join(f"{n} {kind}" for kind, n in p.wrong.items()) or "0"
        selects = sum(calls for calls, query in p.statements if query.upper().startswith("SELECT"))
        print()
        print(
            f"{p.desktops:,} desktops at step 4, each polling every {desktops.INTERVAL:.0f} s "
            f"for {p.seconds:.0f} s (open loop; answers until {p.wall:.0f} s):"
        )
        print()
        print("| measure | value |")
        print("|---|---|")
        print(
            f"| polls answered (204) per second until the last answer, intended "
            f"{p.intended:.0f} | {p.rate:.0f} |"
        )
        print(f"| wrong answers, failed or timed-out (>{desktops.TIMEOUT:.0f} s) polls | {wrong} |")
        if p.latencies:
            print(
                f"| latency p50 / p95 / p99 | {p.latency_ms(50):.1f} / {p.latency_ms(95):.1f} "
                f"/ {p.latency_ms(99):.1f} ms |"
            )
        print(
            f"| server CPU (gunicorn workers + PostgreSQL) | {p.server_cpu / p.wall:.0%} of one "
            f"core; {per_poll:.2f} ms per poll ({small_cpu_ms / per_poll:.2f} of the small "
            f"template's {small_cpu_ms:.2f} ms) |"
        )
        print(
            f"| polls one core could answer at that cost | {1000 / per_poll:,.0f}/s "
            f"(small template: {1000 / small_cpu_ms:,.0f}/s; measured {small_rate:,.0f}/s "
            "on two workers) |"
        )
        print(f"| load generator CPU (this process) | {p.client_cpu / p.wall:.0%} of one core |")
        print(
            f"| statements per poll (pg_stat_statements) | {p.calls / polls:.2f}, of which "
            f"SELECT {selects / polls:.2f} |"
        )
        for calls, query in p.statements[:4]:
            print(f"| — {calls / polls:.2f} × | `{query[:160]}` |")


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return (
        ordered[len(ordered) // 2],
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
    )


if __name__ == "__main__":
    main()
