"""What travels between the door service and its clients: the table of operations, and a safe codec.

A message is a JSON header (with tagged values for times, dates, bytes and the door's result types)
followed by binary parts; a polars DataFrame travels as one Arrow IPC stream part. Decoding builds only the
types named here — never ``pickle``, never a class named by the sender — so a message from a kernel
cannot make the door run code.

Wire format, per message: 4 bytes (big-endian) header length, the header (UTF-8 JSON), then for each
part the header counts, 8 bytes of length and the bytes.

>>> blob = encode_message({"op": "search_plate", "args": ["7ABC123"]})
>>> decode_header(blob[4:])["op"]
'search_plate'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import socket
import struct
from collections.abc import Callable, Sequence
from typing import Any, Final

import polars as pl

from .. import errors
from ..analytics.canvass import Scene
from ..errors import AlprError, InvalidInput
from .audit import ChainReport, Checkpoint
from .auth import UserRecord
from .operations import OPERATIONS
from .purpose import Policy, Why
from .results import RESULT_TYPES

__all__ = [
    "CLIENT_OPERATIONS",
    "MAX_REQUEST",
    "DoorError",
    "decode",
    "encode",
    "encode_message",
    "error_from",
    "read_message",
    "write_message",
]

#: The door's operations a client (a notebook or dashboard kernel) may call: every data operation of the
#: table (:data:`~alpr_lib.access.operations.OPERATIONS`) and the session's own business.
#: Administration of data and accounts (imports, purges, backups, users) stays with the CLI, which runs
#: the door in-process as the operator who owns the data.
CLIENT_OPERATIONS: Final[tuple[str, ...]] = (
    *OPERATIONS,
    "set_purpose",
    "map_layers",
    "agencies",
    "add_hold",
    "approve_hold",
    "release_hold",
    "holds",
    "hotlists",
    "audit_report",
    "verify_audit",
    "list_users",
    "cases",
    "open_cases",
    "open_case",
    "assign_case",
    "close_case",
    "override_case",
    "complete_exercise",
    "audit_export",
    "officers",
    "logout",
)

#: The largest request a client may send (a release's read ids, a long reason): bigger is refused.
MAX_REQUEST: Final = 16 * 1024 * 1024
_MAX_REPLY: Final = 4 * 1024 * 1024 * 1024

# The value types that may cross: each a frozen dataclass rebuilt field by field.
_TYPES: Final[dict[str, type]] = {
    cls.__name__: cls for cls in (*RESULT_TYPES, Scene, Why, Policy, ChainReport, Checkpoint, UserRecord)
}


class DoorError(AlprError):
    """The door service could not be reached, or answered with something that is not a message."""


def encode(value: Any, parts: list[bytes]) -> Any:
    """``value`` as JSON-able data; DataFrames and bytes are appended to ``parts`` and referenced."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, pl.DataFrame):
        buffer = io.BytesIO()
        value.write_ipc_stream(buffer)  # the stream format: a tenth of the file format's fixed cost
        parts.append(buffer.getvalue())
        return {"$frame": len(parts) - 1}
    if isinstance(value, bytes | bytearray):
        parts.append(bytes(value))
        return {"$bytes": len(parts) - 1}
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InvalidInput("times must carry a time zone")
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, list):
        return [encode(v, parts) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, parts) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise InvalidInput("mappings sent to the door have text keys")
        return {"$dict": {k: encode(v, parts) for k, v in value.items()}}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _TYPES.get(name) is type(value):
        fields = {f.name: encode(getattr(value, f.name), parts) for f in dataclasses.fields(value)}
        return {"$type": name, "fields": fields}
    raise InvalidInput(f"a {name} cannot be sent to the door")


def decode(data: Any, parts: list[bytes]) -> Any:
    """The inverse of :func:`encode`; anything not built by it is refused."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v, parts) for v in data]
    if not isinstance(data, dict):
        raise InvalidInput("the door received a value it does not know")
    keys = set(data)
    tag = "$type" if keys == {"$type", "fields"} else next(iter(keys)) if len(keys) == 1 else None
    try:
        match tag:
            case "$frame":
                return pl.read_ipc_stream(io.BytesIO(parts[data["$frame"]]))
            case "$bytes":
                return parts[data["$bytes"]]
            case "$datetime":
                when = dt.datetime.fromisoformat(data["$datetime"])
                if when.tzinfo is None:
                    raise InvalidInput("times must carry a time zone")
                return when
            case "$date":
                return dt.date.fromisoformat(data["$date"])
            case "$tuple":
                return tuple(decode(v, parts) for v in data["$tuple"])
            case "$dict":
                return {str(k): decode(v, parts) for k, v in data["$dict"].items()}
            case "$type":
                cls = _TYPES[data["$type"]]
                return cls(**{str(k): decode(v, parts) for k, v in data["fields"].items()})
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OSError) as exc:
        raise InvalidInput("the door received a value it cannot read") from exc
    raise InvalidInput("the door received a value it does not know")


def encode_message(header: dict[str, Any], parts: Sequence[bytes] = ()) -> bytes:
    """One message: header (with the count of its parts) and parts, framed."""
    body = json.dumps({**header, "parts": len(parts)}, separators=(",", ":")).encode()
    chunks = [struct.pack(">I", len(body)), body]
    for part in parts:
        chunks += [struct.pack(">Q", len(part)), part]
    return b"".join(chunks)


def decode_header(data: bytes) -> dict[str, Any]:
    try:
        header = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("the door received a message that is not JSON") from exc
    if not isinstance(header, dict):
        raise InvalidInput("the door received a message that is not a mapping")
    return header


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_message(sock: socket.socket, *, limit: int = _MAX_REPLY) -> tuple[dict[str, Any], list[bytes]]:
    """Read one message; refuse one larger than ``limit`` bytes before reading it."""
    (size,) = struct.unpack(">I", _exactly(sock, 4))
    if size > min(limit, 64 * 1024 * 1024):
        raise InvalidInput("the message is too large")
    header = decode_header(_exactly(sock, size))
    count = header.get("parts", 0)
    if not isinstance(count, int) or not 0 <= count <= 1024:
        raise InvalidInput("the message has too many parts")
    parts, total = [], size
    for _ in range(count):
        (length,) = struct.unpack(">Q", _exactly(sock, 8))
        total += length
        if total > limit:
            raise InvalidInput("the message is too large")
        parts.append(_exactly(sock, length))
    return header, parts


def write_message(sock: socket.socket, header: dict[str, Any], parts: Sequence[bytes] = ()) -> None:
    sock.sendall(encode_message(header, parts))


def error_from(kind: str, message: str) -> AlprError:
    """The library's error named ``kind`` (an :class:`AlprError`), else a plain :class:`AlprError`."""
    cls: Callable[[str], AlprError] | None = getattr(errors, kind, None) if kind in errors.__all__ else None
    if cls is None and kind == "DoorError":
        cls = DoorError
    return (cls or AlprError)(message)
