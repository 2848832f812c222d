"""Counter kiosks: recognised by configuration the person at the terminal cannot change.

``KIOSK_NETWORKS`` lists the terminals' addresses (CIDR). On a kiosk no device credential or
binding is ever stored. (The kiosk's own wipe and timeouts build on this hook.)
"""

from __future__ import annotations

import ipaddress

from flask import current_app, request


def is_kiosk() -> bool:
    address = request.remote_addr
    networks = current_app.config.get("KIOSK_NETWORKS") or ()
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)
