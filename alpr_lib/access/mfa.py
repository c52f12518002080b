"""The second factor: a TOTP authenticator (RFC 6238, six digits every 30 seconds), as phone apps make them.

A member enrols by scanning a QR code (shown in the terminal and on the web page; drawn here, nothing fetched)
and confirming with a first code. The secret is sealed with the department's account key (AES-GCM, bound to
the member's name) before it is stored, so a copy of the database does not give it away; each code serves
once (the last time step used is kept).

>>> secret = new_secret()
>>> len(secret)
32
"""

from __future__ import annotations

import base64
import hmac
import io
import os
import time

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import KeyUnavailable

__all__ = ["check_code", "new_secret", "provisioning_uri", "qr_svg", "qr_text", "seal", "unseal"]

_STEP = 30
_SEALED = "v1:"


def new_secret() -> str:
    """A new random secret, base32 (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, member: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=member, issuer_name=issuer or "ALPR Workbench")


def qr_text(uri: str) -> str:
    """The QR code drawn with block characters, for a terminal."""
    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG, for the web page."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def check_code(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` is valid for — this one, the one before or after (a phone's clock drifts) —
    when it is later than ``last_step`` (a code serves once); None otherwise."""
    code = "".join(str(code).split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    step = int((time.time() if now is None else now) // _STEP)
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.at(candidate * _STEP), code) and (
            last_step is None or candidate > last_step
        ):
            return candidate
    return None


def seal(key: bytes, member: str, secret: str) -> str:
    """The secret encrypted for the database, bound to ``member`` (moved to another row, it opens no more)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), member.encode())
    return _SEALED + base64.b64encode(nonce + sealed).decode()


def unseal(key: bytes, member: str, stored: str) -> str:
    """The secret :func:`seal` sealed; :class:`KeyUnavailable` when the account key is not the one that
    sealed it (or the stored value was changed or moved)."""
    try:
        if not stored.startswith(_SEALED):
            raise ValueError
        raw = base64.b64decode(stored[len(_SEALED) :], validate=True)
        return AESGCM(key).decrypt(raw[:12], raw[12:], member.encode()).decode()
    except (ValueError, InvalidTag):
        raise KeyUnavailable(
            "the member's second factor cannot be opened with this workbench's account key; an "
            "administrator can reset it (workbench users mfa reset)"
        ) from None
