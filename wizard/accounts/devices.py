"""Device bindings (step 7): which browsers may log in to an account, and how they prove it.

A "webcrypto" binding keeps a non-extractable ECDSA P-256 key in the browser (IndexedDB); the
server stores its public key and checks, at each login, a signature over a fresh single-use
challenge. A "cookie" binding (fallback where WebCrypto is missing) keeps a random secret in an
HttpOnly cookie, of which the server stores only the SHA-256: weaker, because whoever copies
the cookie copies the device. Either way the browser carries one cookie, ``bli_device``:
``<handle>`` for a key, ``<handle>.<secret>`` for a secret.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wizard.database.models import Account, DeviceBinding, LoginChallenge

#: The cookie's name in the embedded default; the app's is its ``DEVICE_COOKIE_NAME`` setting
#: (production: ``__Host-bli_device``, see wizard/config.py).
COOKIE = "bli_device"


COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
CHALLENGE_LIFETIME = dt.timedelta(minutes=10)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class BadKey(ValueError):
    """The public key sent at binding is not a P-256 SubjectPublicKeyInfo."""


def load_public_key(spki_b64: str) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_der_public_key(base64.b64decode(spki_b64, validate=True))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise BadKey("unreadable public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise BadKey("not a P-256 key")
    return key


def bind(
    db: Session, account: Account, label: str, now: dt.datetime, public_key: str | None
) -> tuple[DeviceBinding, str]:
    """A new binding and the value of its cookie. With ``public_key`` (SPKI, base64) it is a
    WebCrypto binding, otherwise the cookie fallback."""
    handle = secrets.token_urlsafe(24)
    binding = DeviceBinding(account_id=account.id, handle=handle, label=label[:80], created_at=now)
    if public_key:
        load_public_key(public_key)
        binding.kind, binding.public_key = "webcrypto", public_key
        cookie = handle
    else:
        secret = secrets.token_urlsafe(32)
        binding.kind, binding.secret_hash = "cookie", _hash(secret)
        cookie = f"{handle}.{secret}"
    db.add(binding)
    db.flush()
    return binding, cookie


def from_cookie(db: Session, cookie: str | None) -> DeviceBinding | None:
    """The live binding this browser's cookie names (a cookie binding must also prove its
    secret)."""
    if not cookie:
        return None
    handle, _, secret = cookie.partition(".")
    binding = db.scalars(select(DeviceBinding).where(DeviceBinding.handle == handle)).first()
    if binding is None or binding.revoked_at is not None:
        return None
    if binding.kind == "cookie":
        if not secret or not hmac.compare_digest(binding.secret_hash or "", _hash(secret)):
            return None
    return binding


def revoke(db: Session, binding_id: int, reason: str, now: dt.datetime) -> bool:
    result = db.execute(
        update(DeviceBinding)
        .where(DeviceBinding.id == binding_id, DeviceBinding.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return (result.rowcount or 0) == 1


def active(db: Session, account_id: int) -> list[DeviceBinding]:
    return list(
        db.scalars(
            select(DeviceBinding)
            .where(DeviceBinding.account_id == account_id, DeviceBinding.revoked_at.is_(None))
            .order_by(DeviceBinding.created_at.desc())
        )
    )


def new_challenge(db: Session, now: dt.datetime) -> str:
    """A fresh nonce for the login page; only its hash is stored."""
    nonce = secrets.token_urlsafe(32)
    db.add(LoginChallenge(nonce_hash=_hash(nonce), expires_at=now + CHALLENGE_LIFETIME))
    db.flush()
    return nonce


def use_challenge(db: Session, nonce: str, now: dt.datetime) -> bool:
    """Spend a challenge: True only the first time, and before it expires (no replay)."""
    if not nonce:
        return False
    result = db.execute(
        update(LoginChallenge)
        .where(
            LoginChallenge.nonce_hash == _hash(nonce),
            LoginChallenge.used_at.is_(None),
            LoginChallenge.expires_at > now,
        )
        .values(used_at=now)
    )
    return (result.rowcount or 0) == 1


def signature_ok(binding: DeviceBinding, nonce: str, signature_b64: str) -> bool:
    """WebCrypto's ECDSA signature (IEEE P1363: r || s, 64 bytes) over the nonce's bytes."""
    if binding.kind != "webcrypto" or not binding.public_key:
        return False
    try:
        raw = base64.b64decode(signature_b64 or "", validate=True)
    except (ValueError, binascii.Error):
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        load_public_key(binding.public_key).verify(der, nonce.encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, BadKey):
        return False
    return True
