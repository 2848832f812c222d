"""The carrier gateway: everything the carriers (through their certificate authority) answer.

One interface, two implementations: the simulator (default; demos and tests; ``simulator.py``)
and an HTTP client for the real gateway (``http.py``, contract in docs/carrier-gateway.md).
Views talk only to :class:`CarrierGateway`; choosing the implementation is configuration
(``CARRIER_GATEWAY``). Neither implementation raises for a carrier that is slow or down: the
answer is then ``UNAVAILABLE``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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


class NetworkOutcome(StrEnum):
    """The carrier's answer to step 5: "is this request coming from that number, over us?"."""

    OK = "ok"
    #: The request came over WiFi: the carrier cannot see which number sent it.
    WIFI = "wifi"
    #: The phone is roaming abroad (or on a foreign network).
    ROAMING = "roaming"
    #: A VPN or private relay hides the mobile network, just as WiFi does.
    VPN = "vpn"
    #: The mobile network identifies another number: on a dual-SIM phone, mobile data is
    #: running on the other SIM.
    OTHER_NUMBER = "other_number"
    #: The number is not held by this national ID (anymore).
    NOT_OWNER = "not_owner"
    PREPAID = "prepaid"
    FAMILY = "family"
    ENTERPRISE = "enterprise"
    MVNO = "mvno"
    #: The carrier refuses the number: suspended, reported lost or in arrears.
    SUSPENDED = "suspended"
    #: The carrier did not answer in time or is down: nothing was decided, try again.
    UNAVAILABLE = "unavailable"


class Network(StrEnum):
    """How the phone's request reached us, as the carrier's network reports it."""

    G4 = "4g"
    G5 = "5g"
    WIFI = "wifi"
    ROAMING = "roaming"
    VPN = "vpn"


@dataclass(frozen=True)
class NetworkIdentity:
    """What the carrier's header enrichment says about the phone's request (simulator input).

    The real gateway finds this out itself from the request's network path; the simulator
    takes it from ``X-Sim-Network`` / ``X-Sim-Msisdn`` or from its marked panel.
    """

    network: Network
    #: The number the mobile network sees (None over WiFi and VPN: it cannot see one).
    msisdn: str | None


@dataclass(frozen=True)
class NetworkCheck:
    """Step 5's question to the carrier."""

    national_id: str
    carrier_code: str
    msisdn: str
    #: Address of the phone's request, for the real gateway (never shown, never logged).
    client_ip: str
    #: Only the simulator reads this; the real gateway ignores it.
    identity: NetworkIdentity | None = None
    #: Names this logical check for the real gateway, which de-duplicates by it (e.g. derived
    #: from the hand-off). None: the HTTP client makes a fresh one per call, reused across its
    #: retries. Never personal data.
    request_id: str | None = None


@dataclass(frozen=True)
class NetworkResult:
    outcome: NetworkOutcome

    @property
    def ok(self) -> bool:
        return self.outcome is NetworkOutcome.OK


class CarrierGateway(Protocol):
    def precheck(self, claim: PersonClaim) -> PrecheckResult:
        """Step 2: check the person's data against the carrier's records of the number."""
        ...

    def network_check(self, check: NetworkCheck) -> NetworkResult:
        """Step 5: confirm over the carrier's own mobile network that the request is from
        ``check.msisdn`` and that the number may be used."""
        ...


def gateway() -> CarrierGateway:
    return current_app.extensions["carrier_gateway"]


def network_identity(headers: Mapping[str, str], form: Mapping[str, str]) -> NetworkIdentity | None:
    """The simulator's input for step 5 (``X-Sim-*`` headers, else its panel), or None.

    Always None unless the simulator is the configured gateway: with the real gateway these
    headers are ignored, as the contract says, since the carrier finds the network itself.
    """
    from wizard.carrier.simulator import SimulatorGateway

    if current_app.config["CARRIER_GATEWAY"] != "simulator":
        return None
    return SimulatorGateway.identity_from(headers, form)


def init_app(app: Flask) -> None:
    from wizard.carrier import simulator

    if app.config["CARRIER_GATEWAY"] == "simulator":
        app.extensions["carrier_gateway"] = simulator.SimulatorGateway(
            app.extensions["db_sessionmaker"],
            latency=float(app.config["SIM_LATENCY"]),
            failure_rate=float(app.config["SIM_FAILURE_RATE"]),
        )
    else:
        # config.check has made sure the URL and token are there.
        from wizard.carrier.http import HttpGateway

        app.extensions["carrier_gateway"] = HttpGateway(
            str(app.config["CARRIER_GATEWAY_URL"]),
            str(app.config["CARRIER_GATEWAY_TOKEN"]),
            timeout=float(app.config["CARRIER_GATEWAY_TIMEOUT"]),
            retries=int(app.config["CARRIER_GATEWAY_RETRIES"]),
            backoff=float(app.config["CARRIER_GATEWAY_BACKOFF"]),
        )
    app.cli.add_command(simulator.simulator_cli)
