"""The carrier gateway: everything the carriers (through their certificate authority) answer.

One interface, two implementations: the simulator (default; demos and tests) and, in the next
step of the project, an HTTP client for the real gateway. Views talk only to
:class:`CarrierGateway`; choosing the implementation is configuration (``CARRIER_GATEWAY``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from flask import Flask, current_app


class PrecheckOutcome(StrEnum):
    """The carrier's answer to "does this person hold this number, and may it be used?"."""

    OK = "ok"
    #: The person data and the number do not belong together (never say which field).
    MISMATCH = "mismatch"
    PREPAID = "prepaid"
    FAMILY = "family"
    ENTERPRISE = "enterprise"
    MVNO = "mvno"
    #: The number is the person's, but on another carrier's network than the one chosen.
    WRONG_CARRIER = "wrong_carrier"
    #: The carrier did not answer in time or is down: nothing was decided, try again.
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class PersonClaim:
    """What a person typed at step 2, already validated and normalised."""

    national_id: str
    name: str
    birth_date: dt.date
    nhi_card: str
    #: Code of the brand chosen (e.g. "tstar"); the gateway resolves it to its network.
    carrier_code: str
    msisdn: str


@dataclass(frozen=True)
class PrecheckResult:
    outcome: PrecheckOutcome

    @property
    def ok(self) -> bool:
        return self.outcome is PrecheckOutcome.OK


class CarrierGateway(Protocol):
    def precheck(self, claim: PersonClaim) -> PrecheckResult:
        """Check the person's data against the carrier's records of the number."""
        ...


def gateway() -> CarrierGateway:
    return current_app.extensions["carrier_gateway"]


def init_app(app: Flask) -> None:
    from wizard.carrier import simulator

    if app.config["CARRIER_GATEWAY"] == "simulator":
        app.extensions["carrier_gateway"] = simulator.SimulatorGateway(
            app.extensions["db_sessionmaker"]
        )
    else:
        # The HTTP gateway client arrives with the step-5 network check; until then the
        # configuration check refuses to start, rather than run without a carrier.
        raise RuntimeError("CARRIER_GATEWAY=http is not available in this version")
    app.cli.add_command(simulator.simulator_cli)
