"""Camera systems' own export formats, read record by record into the fields of a read.

Each reader yields ``(number, fields, text)`` per record: its line (JSON Lines), position (a JSON array) or
element number (XML); ``fields`` — the read's values as the intake's checker takes them (text, as a CSV row
gives them, plus alternatives, a vehicle description and images) — or the reason the record cannot be one;
and the record's own text, for the rejects file. Nothing here writes: :mod:`alpr_lib.ingest` checks and
stores what these give.

* ``autovu`` — Genetec AutoVu / Security Center read exports, XML built from an export template: one read per
  element, its values in child tags (``Plate``, ``State``, ``UTCDate`` + ``UTCTime``, ``LatitudeY``,
  ``LongitudeX``, ``CameraName``, ``SourceName``, ``Guid``, ``ConfidenceScore``, ``PlateImage``,
  ``ContextImage``, and vehicle attributes where the template adds them). A department's template may name
  them otherwise: :data:`AUTOVU_TAGS` lists ours, and ``tags`` maps any of them to the department's.
* ``alprd`` — OpenALPR / Rekor Scout agent messages, JSON: ``alpr_group`` (a vehicle: best plate and
  candidates, region, epoch times, camera and site, GPS, colour/make/model/body type, travel direction) and
  ``alpr_results`` (one frame's plates); heartbeats are skipped.
* ``platerecognizer`` — Plate Recognizer Snapshot responses and Stream webhook results, JSON: plate,
  candidates, region code and score, box, vehicle type, and make/model/colour/orientation/direction when
  present.

JSON files may hold one message, an array of them, or one per line (JSON Lines, as agents' queues and
webhook logs keep them).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as safe_xml

from .errors import InvalidInput
from .vehicles import body_type, color_name, compass, direction_name

__all__ = ["AUTOVU_TAGS", "FORMATS", "Fields", "read_records", "sniff"]

#: The formats ``workbench import-reads --format`` takes.
FORMATS: tuple[str, ...] = ("csv", "autovu", "alprd", "platerecognizer")

Fields = dict[str, Any]
Record = tuple[int, Fields | str, str]

#: Our field -> the AutoVu export template's tag (Genetec's default names; a department's template may
#: differ: map ours to theirs with ``tags``).
AUTOVU_TAGS: dict[str, str] = {
    "plate": "Plate",
    "state": "State",
    "date": "UTCDate",
    "time": "UTCTime",
    "timestamp": "DateTimeUtc",
    "lat": "LatitudeY",
    "lon": "LongitudeX",
    "camera": "CameraName",
    "unit": "SourceName",
    "source_id": "Guid",
    "confidence": "ConfidenceScore",
    "plate_image": "PlateImage",
    "context_image": "ContextImage",
    "make": "VehicleMake",
    "model": "VehicleModel",
    "color": "VehicleColor",
    "body": "VehicleType",
    "direction": "Heading",
}
# Other names Genetec's templates use for the same values (Patroller hit export, Simple Host).
_AUTOVU_ALSO: dict[str, tuple[str, ...]] = {
    "plate": ("PlateNumber", "PlateRead"),
    "state": ("PlateState",),
    "timestamp": ("TimeStampUTC", "DateUtc"),
    "lat": ("Latitude",),
    "lon": ("Longitude",),
    "unit": ("PatrollerName", "UnitName"),
    "source_id": ("ReadID", "ReadId"),
}
MAX_RECORD = 4 * 1024 * 1024  # a record's text, images included

_STATE_NAMES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "districtofcolumbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "newhampshire": "NH", "newjersey": "NJ", "newmexico": "NM",
    "newyork": "NY", "northcarolina": "NC", "northdakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhodeisland": "RI", "southcarolina": "SC", "southdakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "westvirginia": "WV", "wisconsin": "WI", "wyoming": "WY", "britishcolumbia": "BC", "alberta": "AB",
}  # fmt: skip


def state_code(text: Any) -> str:
    """A two-letter state from a vendor's region: ``us-or``, ``OR``, ``Oregon``; "" when none is given
    (a code that is no state is passed on for the checker to refuse)."""
    word = str(text or "").strip()
    if not word:
        return ""
    if "-" in word:  # "us-or": country and region
        word = word.rsplit("-", 1)[1]
    squashed = "".join(ch for ch in word.lower() if ch.isalpha())
    return _STATE_NAMES.get(squashed, word.upper())


def sniff(path: Path) -> str:
    """The format of an export, from its first bytes: XML is ``autovu``; JSON with ``data_type`` or
    ``best_plate_number`` is ``alprd``; JSON with ``results`` holding ``plate`` and ``score`` (or a Stream
    ``hook``) is ``platerecognizer``; anything else is ``csv``."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "autovu"
    if text.startswith(("{", "[")):
        if '"data_type"' in text or '"best_plate_number"' in text or '"epoch_start"' in text:
            return "alprd"
        if '"hook"' in text or ('"results"' in text and '"score"' in text):
            return "platerecognizer"
        raise InvalidInput(
            f"{path.name} is JSON but neither an OpenALPR/Rekor agent export nor a Plate Recognizer one; "
            "say which with --format"
        )
    return "csv"


def read_records(fmt: str, path: Path, tags: Mapping[str, str] | None = None) -> Iterator[Record]:
    """The records of an export in ``fmt`` (see the module docstring)."""
    if fmt == "autovu":
        return _autovu(path, {**AUTOVU_TAGS, **(tags or {})}, set(tags or ()))
    if tags:
        raise InvalidInput("--map names columns of a CSV or tags of an AutoVu XML export, not JSON fields")
    if fmt == "alprd":
        return _json_records(path, _alprd)
    if fmt == "platerecognizer":
        return _json_records(path, _platerecognizer)
    raise InvalidInput(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


# -- AutoVu XML --------------------------------------------------------------------------------------


def _autovu(path: Path, tags: dict[str, str], chosen: set[str]) -> Iterator[Record]:
    unknown = sorted(set(tags) - set(AUTOVU_TAGS))
    if unknown:
        raise InvalidInput(
            f"--map names unknown field(s) {', '.join(unknown)}; ours are {', '.join(AUTOVU_TAGS)}"
        )
    plate_tags = {tags["plate"], *(() if "plate" in chosen else _AUTOVU_ALSO["plate"])}
    if path.stat().st_size > 2 * 1024**3:
        raise InvalidInput(f"{path.name} is larger than 2 GB; split the export")
    try:
        # A supplier's file: no DTD, no entity, nothing fetched from a reference (defusedxml refuses them).
        tree = safe_xml.parse(path, forbid_dtd=True)
    except ET.ParseError as exc:
        raise InvalidInput(f"{path.name} is not well-formed XML ({exc}); re-export it") from None
    except DefusedXmlException:
        raise InvalidInput(
            f"{path.name} holds a DTD or entities, which exports never need; re-export it"
        ) from None
    root = tree.getroot()
    reads = [root] if any(_local(c.tag) in plate_tags for c in root) else [
        el for el in root.iter() if el is not root and any(_local(c.tag) in plate_tags for c in el)
    ]  # fmt: skip
    if not reads:
        raise InvalidInput(
            f"{path.name} holds no read: no element has a <{tags['plate']}> tag (a template's own tag "
            "names are mapped with --map, e.g. --map plate=PlateNumber)"
        )
    for n, element in enumerate(reads, start=1):
        text = ET.tostring(element, encoding="unicode")
        if len(text) > MAX_RECORD:
            yield n, "a record larger than 4 MB", text[:1000]
            continue
        values = {_local(c.tag): (c.text or "").strip() for c in element}
        yield n, _autovu_fields(values, tags, chosen), text


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _autovu_fields(values: dict[str, str], tags: dict[str, str], chosen: set[str]) -> Fields | str:
    def get(field: str) -> str:
        names = (tags[field], *(() if field in chosen else _AUTOVU_ALSO.get(field, ())))
        return next((values[n] for n in names if values.get(n)), "")

    when = get("timestamp")
    if not when and get("date"):
        date = get("date").replace(":", "-").replace("/", "-")
        when = f"{date}T{get('time') or '00:00:00'}+00:00"
    elif when and not any(ch in when[10:] for ch in "Z+-"):
        when += "+00:00"  # the UTC field carries no offset
    camera = get("camera")
    unit = get("unit")
    try:
        images = {k: _jpeg(get(k)) for k in ("plate_image", "context_image")}
    except ValueError as exc:
        return str(exc)
    return {
        "plate": get("plate"),
        "state": state_code(get("state")),
        "ts": when,
        "lat": get("lat"),
        "lon": get("lon"),
        "source_id": get("source_id"),
        "camera": f"{unit} {camera}".strip() if unit and camera and unit not in camera else (camera or unit),
        "confidence": get("confidence"),
        "make": get("make"),
        "model": get("model"),
        "color": color_name(get("color")),
        "body": body_type(get("body")),
        "direction": direction_name(get("direction")),
        **images,
    }


def _jpeg(text: str | None) -> bytes | None:
    """The bytes of a base64 JPEG, None when there is none; ``ValueError`` when it is something else."""
    if not text:
        return None
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("an image that is not base64 text") from None
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("an image that is not a JPEG")
    return data


# -- JSON: one message, an array, or JSON Lines -------------------------------------------------------


def _json_records(path: Path, convert: Any) -> Iterator[Record]:
    with path.open("rb") as fh:
        first = fh.read(1 << 16).lstrip(b"\xef\xbb\xbf \t\r\n")
    whole = first.startswith(b"[") or (first.startswith(b"{") and _one_document(path))
    if whole:
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(
                f"{path.name} is not JSON text ({exc.__class__.__name__}); re-export it"
            ) from None
        messages = data if isinstance(data, list) else [data]
        for n, message in enumerate(messages, start=1):
            yield from _converted(n, message, convert)
        return
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            if len(raw) > MAX_RECORD:
                yield n, "a record larger than 4 MB", raw[:1000].decode("utf-8", "replace")
                continue
            try:
                message = json.loads(raw.decode("utf-8-sig"))
            except UnicodeDecodeError:
                yield n, "not UTF-8 text (re-export the file as UTF-8)", raw.decode("utf-8", "replace")
                continue
            except json.JSONDecodeError:
                yield n, "malformed JSON", raw.decode("utf-8", "replace")
                continue
            yield from _converted(n, message, convert)


def _one_document(path: Path) -> bool:
    """Whether a file starting with ``{`` is one JSON document (pretty-printed) rather than JSON Lines."""
    with path.open("rb") as fh:
        line = fh.readline()
    try:
        json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True
    return False


def _converted(n: int, message: Any, convert: Any) -> Iterator[Record]:
    text = json.dumps(message)[:MAX_RECORD] if not isinstance(message, str) else message
    if not isinstance(message, dict):
        yield n, "a record that is not a JSON object", text
        return
    try:
        results = list(convert(message))
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        reason = (
            str(exc) if isinstance(exc, ValueError) and str(exc).startswith("an ") else "malformed record"
        )
        yield n, reason, text
        return
    for fields in results:
        yield n, fields, text


def _top(items: Any, key: str) -> str:
    """The best-scored name of a vendor's classifier list (``[{"name": "white", "confidence": 98}]``)."""
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get(key) or "")
    if isinstance(items, str):
        return items
    return ""


def _candidates(items: Any, best: str, scale: float) -> list[dict[str, Any]]:
    out = []
    for c in items or []:
        plate = str(c.get("plate") or "")
        score = c.get("confidence", c.get("score"))
        if plate and plate.upper() != best.upper():
            out.append({"plate": plate, "confidence": None if score is None else float(score) / scale})
    return out[:9]


def _epoch(ms: Any) -> str:
    if isinstance(ms, bool) or not isinstance(ms, int | float):
        raise ValueError("an epoch time that is not a number")
    try:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise ValueError("an epoch time out of range") from None


def _alprd(message: dict[str, Any]) -> Iterator[Fields]:
    kind = message.get("data_type")
    if kind in ("heartbeat", "alpr_alert", "vehicle"):
        return
    camera = _camera_label(message)
    where = {"lat": _text(message.get("gps_latitude")), "lon": _text(message.get("gps_longitude"))}
    if kind == "alpr_group" or "best_plate_number" in message:
        best = message.get("best_plate") or {}
        plate = str(message.get("best_plate_number") or best.get("plate") or "")
        vehicle = message.get("vehicle") or {}
        make_model = _top(vehicle.get("make_model"), "name")
        make = _top(vehicle.get("make"), "name") or make_model.split("_", 1)[0]
        model = make_model.split("_", 1)[1] if "_" in make_model else ""
        images = {
            "plate_image": _jpeg(best.get("plate_crop_jpeg")),
            "context_image": _jpeg(message.get("vehicle_crop_jpeg")),
        }
        yield {
            "plate": plate,
            "state": state_code(message.get("best_region") or best.get("region")),
            "ts": _epoch(message.get("epoch_start")),
            **where,
            "source_id": str(message.get("best_uuid") or ""),
            "camera": camera,
            "confidence": _text(message.get("best_confidence")),
            "alternatives": _candidates(message.get("candidates") or best.get("candidates"), plate, 100),
            "make": make.replace("-", " ").title() if make else "",
            "model": model.replace("-", " ").title() if model else "",
            "color": color_name(_top(vehicle.get("color"), "name")),
            "body": body_type(_top(vehicle.get("body_type"), "name")),
            "direction": compass(_number(message.get("travel_direction"))),
            **images,
        }
        return
    if kind == "alpr_results":
        for i, result in enumerate(message.get("results") or []):
            plate = str(result.get("plate") or "")
            yield {
                "plate": plate,
                "state": state_code(result.get("region")),
                "ts": _epoch(message.get("epoch_time")),
                **where,
                "source_id": f"{message.get('uuid') or ''}#{result.get('plate_index', i)}"
                if message.get("uuid")
                else "",
                "camera": camera,
                "confidence": _text(result.get("confidence")),
                "alternatives": _candidates(result.get("candidates"), plate, 100),
                "plate_image": _jpeg(result.get("plate_crop_jpeg")),
            }
        return
    raise ValueError("an unknown data_type (alpr_group or alpr_results expected)")


def _camera_label(message: dict[str, Any]) -> str:
    config = message.get("web_server_config") or {}
    label = str(config.get("camera_label") or "") if isinstance(config, dict) else ""
    if label:
        return label
    camera = message.get("camera_id")
    site = message.get("site_id") or message.get("agent_uid")
    name = f"camera {camera}" if camera not in (None, "") else ""
    return f"{site} {name}".strip() if site and site != "unspecified" else name


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _platerecognizer(message: dict[str, Any]) -> Iterator[Fields]:
    data = message.get("data") if isinstance(message.get("data"), dict) else message
    when = data.get("timestamp") or data.get("timestamp_local")
    if not when:
        raise ValueError("an empty timestamp")
    camera = str(data.get("camera_id") or "")
    for i, result in enumerate(data.get("results") or []):
        plate = str(result.get("plate") or "")
        props = result.get("vehicle") or {}
        region = result.get("region") or {}
        make_model = result.get("model_make") or []
        top_mm = make_model[0] if isinstance(make_model, list) and make_model else {}
        orientation = _top(result.get("orientation"), "orientation")
        direction = _number(result.get("direction"))
        yield {
            "plate": plate,
            "state": state_code(region.get("code") if isinstance(region, dict) else region),
            "ts": str(when),
            "lat": _text((data.get("gps") or {}).get("latitude"))
            if isinstance(data.get("gps"), dict)
            else "",
            "lon": _text((data.get("gps") or {}).get("longitude"))
            if isinstance(data.get("gps"), dict)
            else "",
            "source_id": f"{data.get('filename') or ''}#{i}" if data.get("filename") else "",
            "camera": camera,
            "confidence": _text(result.get("score")),
            "alternatives": _candidates(result.get("candidates"), plate, 1),
            "make": str(top_mm.get("make") or ""),
            "model": str(top_mm.get("model") or ""),
            "color": color_name(_top(result.get("color"), "color")),
            "body": body_type(str(props.get("type") or "")),
            "direction": compass(direction),
            "orientation": orientation.lower() if orientation and orientation != "Unknown" else "",
        }
