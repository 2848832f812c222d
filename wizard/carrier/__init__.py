"""The carrier gateway: everything the carriers (through their certificate authority) answer.

One interface, two implementations: the simulator (default; demos and tests; ``simulator.py``)
and an HTTP client for the real gateway (``http.py``, contract in docs/carrier-gateway.md).
Views talk only to :class:`CarrierGateway`; choosing the implementation is configuration
(``CARRIER_GATEWAY``). Neither implementation raises for a carrier that is slow or down: the
answer is then ``UNAVAILABLE``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app

from wizard.carrier.contract import (
    CarrierGateway,
    Network,
    NetworkCheck,
    NetworkIdentity,
    NetworkOutcome,
    NetworkResult,
    PersonClaim,
    PrecheckOutcome,
    PrecheckResult,
)

__all__ = [
    "CarrierGateway",
    "Network",
    "NetworkCheck",
    "NetworkIdentity",
    "NetworkOutcome",
    "NetworkResult",
    "PersonClaim",
    "PrecheckOutcome",
    "PrecheckResult",
    "gateway",
    "init_app",
    "network_identity",
]


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
