"""Issue 14's goals, judged from one `make bench` run (pure: figures in, verdicts out).

* every GET and POST of the wizard and the portal at >= 0.5 of the bare small template by
  server CPU per request, the step-4 poll at >= 0.7;
* the requests that hash or verify a password (argon2id) are judged against the hash instead:
  a full registration's server CPU at most 1.25 x the argon2id cost;
* one worker's memory after 10,000 mixed requests does not grow (see bench/memory.py).

`bench/run.py` prints the verdicts after its tables and exits non-zero when one is missed.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE = 0.5
POLL = 0.7
#: A full registration's server CPU over the argon2id hash it contains.
REGISTRATION = 1.25
#: Growth allowed between the RSS after the warm-up and after the last request (KiB): a leak
#: of a tenth of a KiB a request would pass it within 10,000 requests.
RSS_GROWTH_KIB = 4096


@dataclass(frozen=True)
class Verdict:
    what: str
    value: float
    goal: float
    #: ">=" (the value must reach the goal) or "<=" (must stay under it).
    sense: str

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.sense == ">=" else self.value <= self.goal

    def line(self) -> str:
        mark = "met" if self.met else "**missed**"
        return f"| {self.what} | {self.value:,.2f} | {self.sense} {self.goal:,.2f} | {mark} |"


def requests(rows: list[tuple[str, float]], small_cpu_ms: float) -> list[Verdict]:
    """One verdict per request benchmark (name, server CPU ms per request), argon2id's aside."""
    verdicts = []
    for name, cpu_ms in rows:
        if "argon2id" in name or cpu_ms != cpu_ms:  # judged by the registration; NaN: unmeasured
            continue
        goal = POLL if "poll" in name else PAGE
        verdicts.append(
            Verdict(f"{name}: CPU vs small template", small_cpu_ms / cpu_ms, goal, ">=")
        )
    return verdicts


def registration(cpu_ms_per_registration: float, argon2_cpu_ms: float) -> Verdict:
    return Verdict(
        "a full registration's server CPU vs its argon2id hash",
        cpu_ms_per_registration / argon2_cpu_ms,
        REGISTRATION,
        "<=",
    )


def memory(samples: list[tuple[int, int]]) -> Verdict:
    """``samples``: (requests answered, RSS KiB); the first is taken after the warm-up."""
    return Verdict(
        f"one worker's RSS growth over {samples[-1][0] - samples[0][0]:,} requests (KiB)",
        samples[-1][1] - samples[0][1],
        RSS_GROWTH_KIB,
        "<=",
    )


def report(verdicts: list[Verdict]) -> list[str]:
    """The Markdown table `make bench` prints."""
    lines = ["| goal (issue 14) | measured | goal | |", "|---|---|---|---|"]
    return lines + [v.line() for v in verdicts]
