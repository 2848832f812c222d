"""The device credential: keys, signatures, challenges, cookies."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask import Flask
from sqlalchemy.orm import Session

from tests.accounts import make_account
from tests.conftest import make_test_app
from wizard.accounts import devices
from wizard.clock import FrozenClock
from wizard.database.models import Account

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def spki(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def webcrypto_signature(key: ec.EllipticCurvePrivateKey, message: str) -> str:
    """What WebCrypto's ECDSA sign() returns: r || s, 32 bytes each, base64."""
    r, s = decode_dss_signature(key.sign(message.encode(), ec.ECDSA(hashes.SHA256())))
    return base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()


@pytest.fixture
def db(tmp_path: Path) -> Session:
    app: Flask = make_test_app(tmp_path, FrozenClock(NOW))
    account_id = make_account(app)
    session = app.extensions["db_sessionmaker"]()
    session.info["account"] = session.get(Account, account_id)
    yield session
    session.close()
    app.extensions["db_engine"].dispose()


def test_a_signature_by_the_bound_key_over_a_fresh_challenge_passes(db: Session) -> None:
    key = new_key()
    binding, cookie = devices.bind(db, db.info["account"], "Chrome / Windows", NOW, spki(key))
    assert binding.kind == "webcrypto" and cookie == binding.handle
    nonce = devices.new_challenge(db, NOW)
    assert devices.use_challenge(db, nonce, NOW)
    assert devices.signature_ok(binding, nonce, webcrypto_signature(key, nonce))


def test_a_signature_from_another_key_fails(db: Session) -> None:
    binding, _ = devices.bind(db, db.info["account"], "Chrome / Windows", NOW, spki(new_key()))
    nonce = devices.new_challenge(db, NOW)
    assert not devices.signature_ok(binding, nonce, webcrypto_signature(new_key(), nonce))


def test_a_signature_over_another_challenge_fails(db: Session) -> None:
    key = new_key()
    binding, _ = devices.bind(db, db.info["account"], "x", NOW, spki(key))
    nonce = devices.new_challenge(db, NOW)
    assert not devices.signature_ok(binding, nonce, webcrypto_signature(key, "other"))


@pytest.mark.parametrize(
    "signature",
    ["", "not base64!", base64.b64encode(b"x" * 63).decode(), base64.b64encode(bytes(64)).decode()],
)
def test_a_missing_or_malformed_signature_fails(db: Session, signature: str) -> None:
    binding, _ = devices.bind(db, db.info["account"], "x", NOW, spki(new_key()))
    assert not devices.signature_ok(binding, "nonce", signature)


def test_a_replayed_challenge_is_refused(db: Session) -> None:
    nonce = devices.new_challenge(db, NOW)
    assert devices.use_challenge(db, nonce, NOW)
    assert not devices.use_challenge(db, nonce, NOW)


def test_an_expired_or_unknown_challenge_is_refused(db: Session) -> None:
    nonce = devices.new_challenge(db, NOW)
    assert not devices.use_challenge(db, nonce, NOW + devices.CHALLENGE_LIFETIME)
    assert not devices.use_challenge(db, "made-up", NOW)
    assert not devices.use_challenge(db, "", NOW)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "AAAA",
        "bm90IGEga2V5",
        # a P-384 key: the wrong curve
        spki(ec.generate_private_key(ec.SECP384R1())),
    ],
)  # type: ignore[arg-type]
def test_only_p256_public_keys_are_accepted(db: Session, bad: str) -> None:
    with pytest.raises(devices.BadKey):
        devices.load_public_key(bad)


def test_the_cookie_fallback_needs_its_secret(db: Session) -> None:
    binding, cookie = devices.bind(db, db.info["account"], "x", NOW, None)
    assert binding.kind == "cookie" and binding.public_key is None
    handle, secret = cookie.split(".")
    assert binding.secret_hash != secret  # only the hash is stored
    assert devices.from_cookie(db, cookie).id == binding.id
    assert devices.from_cookie(db, handle) is None
    assert devices.from_cookie(db, f"{handle}.wrong") is None
    # A cookie binding cannot sign: a WebCrypto login against it fails.
    assert not devices.signature_ok(binding, "n", webcrypto_signature(new_key(), "n"))


def test_a_revoked_binding_is_gone(db: Session) -> None:
    binding, cookie = devices.bind(db, db.info["account"], "x", NOW, spki(new_key()))
    assert devices.revoke(db, binding.id, "user", NOW)
    assert not devices.revoke(db, binding.id, "user", NOW)  # once
    assert devices.from_cookie(db, cookie) is None
    assert devices.active(db, binding.account_id) == []
