"""The carrier gateway's contract: what step 5 asks the carriers and what they answer
(result types and the :class:`CarrierGateway` protocol both implementations follow)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


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
