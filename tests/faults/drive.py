"""Running several people at once, each in a thread, and collecting how each run ended."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from tests.faults.people import Person, Stuck


@dataclass
class Crowd:
    """People registering concurrently; ``start()``, then ``join()``."""

    people: list[Person]
    #: Seconds between one person's requests (a person reads and types).
    pause: float = 0.0
    timeout: float = 60.0
    stuck: list[Person] = field(default_factory=list)
    failures: list[tuple[Person, BaseException]] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Crowd:
        deadline = time.monotonic() + self.timeout
        for person in self.people:
            thread = threading.Thread(target=self._run, args=(person, deadline), daemon=True)
            self.threads.append(thread)
            thread.start()
        return self

    def _run(self, person: Person, deadline: float) -> None:
        try:
            person.run(deadline, pause=self.pause)
        except Stuck:
            self.stuck.append(person)
        except BaseException as error:  # reported by join()
            self.failures.append((person, error))

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(self.timeout + 30)
        assert not self.running(), "a person's run did not end"
        if self.failures:
            person, error = self.failures[0]
            raise AssertionError(f"{person.national_id} at {person.stage}: {error}") from error

    def dropped(self) -> int:
        """Requests that got no answer at all."""
        return sum(1 for person in self.people for _stage, status, _ in person.faults if not status)

    def error_pages(self) -> int:
        return sum(len(person.error_pages) for person in self.people)
