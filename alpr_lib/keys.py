"""The department's signing key: Ed25519, kept outside the database, readable by its owner only.

The key signs every audit entry, every audit checkpoint and every release manifest, so that a
record written by anyone without the key — an insider with write access to the database file
included — is told apart from the workbench's own. The door service and the command line hold it;
notebook and dashboard kernels cannot reach its folder (``workbench.sandbox``).

A key folder holds, per key, ``<key id>.key`` (the private key, PKCS #8 PEM, mode 0600) and
``<key id>.json`` (its public record: the public key, the database it signs for, the first audit
entry it signed and, once rotated out, the last). The database names its current key
(``signing_key`` in ``meta``) and its own identity (``database_id``); which keys are trusted comes
from the folder (or from a public bundle handed to an auditor), never from the database.

>>> ring = KeyRing(Path("/srv/alpr/keys"))  # doctest: +SKIP
>>> record = ring.create("2f1c...", first_entry=1)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import os
import weakref
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import InvalidInput, KeyUnavailable
from .media import private_folder, write_private

__all__ = [
    "ALGORITHM",
    "KeyRing",
    "PublicKey",
    "attach",
    "load_bundle",
    "ring_of",
    "sign",
]

ALGORITHM = "Ed25519"
#: What each signature is for, signed with it, so that no signature can be passed off as another kind.
_CONTEXT = {
    "audit": b"alpr-workbench audit entry v1\x00",
    "checkpoint": b"alpr-workbench audit checkpoint v1\x00",
    "manifest": b"alpr-workbench release manifest v1\x00",
}


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    """A key's public record: what an auditor or a receiving agency verifies with."""

    key_id: str
    public_key: str  # PEM (SubjectPublicKeyInfo)
    database_id: str
    first_entry: int
    last_entry: int | None = None  # set when the key is rotated out: the last audit entry it signed
    created_at: str = ""
    retired_at: str | None = None
    algorithm: str = ALGORITHM

    @functools.cached_property
    def _loaded(self) -> Ed25519PublicKey | None:
        key = serialization.load_pem_public_key(self.public_key.encode())
        return key if isinstance(key, Ed25519PublicKey) else None

    def verify(self, kind: str, message: bytes, signature: str | None) -> bool:
        """True when ``signature`` (base64) is this key's over ``message`` for ``kind``."""
        if not signature or self._loaded is None:
            return False
        try:
            self._loaded.verify(base64.b64decode(signature, validate=True), _CONTEXT[kind] + message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def covers(self, entry_id: int) -> bool:
        """True when audit entry ``entry_id`` falls in the span this key signed for."""
        return entry_id >= self.first_entry and (self.last_entry is None or entry_id <= self.last_entry)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PublicKey:
        try:
            record = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
            if record.algorithm != ALGORITHM or not isinstance(record.first_entry, int):
                raise ValueError
            serialization.load_pem_public_key(record.public_key.encode())
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise InvalidInput("not a workbench public key record") from exc
        return record


class KeyRing:
    """The folder of the department's keys (0700), with the private keys loaded once."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._private: dict[str, Ed25519PrivateKey] = {}

    def _ensure_folder(self) -> None:
        private_folder(self.folder).chmod(0o700)  # an existing folder too

    # -- records ---------------------------------------------------------------------------------

    def records(self, database_id: str | None = None) -> list[PublicKey]:
        """The public records in the folder (of one database when given), oldest first."""
        found = []
        if not self.folder.is_dir():
            return []
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = PublicKey.from_dict(json.loads(path.read_text()))
            except (OSError, ValueError, InvalidInput):
                continue
            if database_id is None or record.database_id == database_id:
                found.append(record)
        return sorted(found, key=lambda r: r.first_entry)

    def record(self, key_id: str) -> PublicKey | None:
        path = self.folder / f"{key_id}.json"
        try:
            return PublicKey.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, InvalidInput):
            return None

    def _write_record(self, record: PublicKey) -> None:
        write_private(self.folder / f"{record.key_id}.json", json.dumps(record.as_dict(), indent=2).encode())

    # -- the private half ------------------------------------------------------------------------

    def create(self, database_id: str, *, first_entry: int) -> PublicKey:
        """Make a new key for ``database_id`` that signs from audit entry ``first_entry`` on."""
        self._ensure_folder()
        private = Ed25519PrivateKey.generate()
        public = private.public_key()
        key_id = _key_id(public)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        write_private(self.folder / f"{key_id}.key", pem)
        record = PublicKey(
            key_id=key_id,
            public_key=public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode(),
            database_id=database_id,
            first_entry=first_entry,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        self._write_record(record)
        self._private[key_id] = private
        return record

    def has_private(self, key_id: str) -> bool:
        return key_id in self._private or (self.folder / f"{key_id}.key").is_file()

    def private(self, key_id: str) -> Ed25519PrivateKey:
        """The private key ``key_id``; :class:`KeyUnavailable` when this folder does not hold it."""
        key = self._private.get(key_id)
        if key is not None:
            return key
        path = self.folder / f"{key_id}.key"
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise KeyUnavailable(
                f"the department's signing key {key_id} is not in {self.folder}: restore the key folder "
                "from its backup (admin guide: keys), or set key_dir to where it is"
            ) from None
        except (OSError, ValueError) as exc:
            raise KeyUnavailable(f"the signing key {key_id} in {self.folder} cannot be read: {exc}") from exc
        if not isinstance(loaded, Ed25519PrivateKey) or _key_id(loaded.public_key()) != key_id:
            raise KeyUnavailable(f"the file {path} is not the signing key {key_id}")
        self._private[key_id] = loaded
        return loaded

    def retire(self, key_id: str, *, last_entry: int) -> None:
        """Rotate key ``key_id`` out after audit entry ``last_entry``: its record says so and its private
        half is destroyed (the public half stays, to verify what it signed)."""
        record = self.record(key_id)
        if record is None:
            raise KeyUnavailable(f"there is no key {key_id} in {self.folder}")
        self._write_record(
            replace(
                record,
                last_entry=last_entry,
                retired_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            )
        )
        self._private.pop(key_id, None)
        (self.folder / f"{key_id}.key").unlink(missing_ok=True)

    def copy_to(self, dest: Path, database_id: str) -> list[Path]:
        """Copy the keys of ``database_id`` (private halves and records) into the new folder ``dest``, private
        to its owner: the key backup, kept apart from the database's."""
        dest = Path(dest)
        if dest.exists() and any(dest.iterdir()):
            raise InvalidInput(f"{dest} is not empty: give a new folder for the key backup")
        private_folder(dest).chmod(0o700)
        copied = []
        for record in self.records(database_id):
            for name in (f"{record.key_id}.key", f"{record.key_id}.json", "accounts.key"):
                source = self.folder / name
                if source.is_file():
                    write_private(dest / name, source.read_bytes())
                    copied.append(dest / name)
        return copied

    def account_key(self) -> bytes:
        """The 256-bit key that seals members' second-factor secrets in the database (AES-GCM), made on first
        use: a copy of the database alone does not give them away."""
        path = self.folder / "accounts.key"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self._ensure_folder()
            data = os.urandom(32)
            write_private(path, data)
        if len(data) != 32:
            raise KeyUnavailable(f"{path} is not an account key (32 bytes)")
        return data

    def bundle(self, database_id: str, department: str = "") -> dict[str, Any]:
        """The public bundle for an auditor or a receiving agency: every key of the database, no secret."""
        return {
            "kind": "alpr-workbench public keys",
            "department": department,
            "database_id": database_id,
            "keys": [r.as_dict() for r in self.records(database_id)],
        }


def load_bundle(path: Path) -> list[PublicKey]:
    """The keys of a public bundle (``workbench keys export``) or of one public record file."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{Path(path).name} is not a public key file: {exc}") from exc
    items = data.get("keys") if isinstance(data, dict) and "keys" in data else [data]
    if not isinstance(items, list) or not items:
        raise InvalidInput(f"{Path(path).name} holds no public key")
    return [PublicKey.from_dict(item if isinstance(item, dict) else {}) for item in items]


def sign(private: Ed25519PrivateKey, kind: str, message: bytes) -> str:
    """The base64 signature of ``message`` for ``kind`` (audit, checkpoint, manifest)."""
    return base64.b64encode(private.sign(_CONTEXT[kind] + message)).decode()


# Which key folder serves which database engine: the store attaches its ring, the audit log signs with it.
_RINGS: weakref.WeakKeyDictionary[Any, KeyRing] = weakref.WeakKeyDictionary()


def attach(engine: Any, ring: KeyRing) -> None:
    _RINGS[engine] = ring


def ring_of(engine: Any) -> KeyRing | None:
    return _RINGS.get(engine)
