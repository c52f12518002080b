"""Releases: reads exported for a case to another law-enforcement or prosecutorial agency.

A release goes only to an agency in the registry whose kind is law enforcement or prosecutorial (never
"other"), and to an agency of another state only when the department allows it (Oregon's 2026 law limits
sharing out of state). The package is a folder: the reads as CSV and Parquet, their images, a map (HTML
with an inline drawing: it opens offline), ``manifest.json`` with the SHA-256 of every file, the case,
the purpose, who released it and when, and ``manifest.sig``: the department key's Ed25519 signature of the
manifest. :func:`verify_package` recomputes every checksum and checks the signature with the department's
public keys, so a package altered and re-hashed is refused; the receiving agency needs only the public keys
(``workbench keys export``), never the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import AccessDenied, InvalidInput
from ..keys import PublicKey
from ..media import ImageStore, private_folder, write_private

__all__ = [
    "AGENCY_KINDS",
    "MANIFEST",
    "SIGNATURE",
    "check_agency",
    "manifest_sha256",
    "verify_package",
    "write_package",
]

AGENCY_KINDS = ("law-enforcement", "prosecutorial", "other")
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def check_agency(kind: str, state: str, *, department_state: str, allow_out_of_state: bool) -> None:
    """Refuse, with the reason, a release the policy does not allow."""
    if kind not in ("law-enforcement", "prosecutorial"):
        raise AccessDenied("data is shared only with law-enforcement or prosecutorial agencies")
    if state.upper() != department_state.upper() and not allow_out_of_state:
        raise AccessDenied(
            f"releases to agencies outside {department_state.upper()} are not allowed by the department's "
            "settings"
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _map_html(reads: pl.DataFrame, title: str) -> str:
    """The reads' places drawn as an inline SVG: opens anywhere, fetches nothing."""
    from ..analytics.svgmap import svg_map

    if reads.is_empty():
        return f"<!doctype html><title>{html.escape(title)}</title><p>No reads.</p>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1>{svg_map(reads, colour_by='plate', width=800, height=600)}"
        f"<p>Latitude {reads['lat'].min():.5f} to {reads['lat'].max():.5f}, "
        f"longitude {reads['lon'].min():.5f} to {reads['lon'].max():.5f}.</p></body></html>"
    )


def write_package(
    dest: Path,
    reads: pl.DataFrame,
    meta: dict[str, Any],
    images: ImageStore,
    sign: Callable[[bytes], dict[str, str] | None] | None = None,
) -> str:
    """Write a release package into the new folder ``dest`` (private to its owner); returns the manifest's
    SHA-256. Only the reads' files inside the image store are copied in: a path that leads elsewhere is left
    out, never opened. ``sign`` gives the department's signature of the manifest's SHA-256 (hex), written
    beside it as ``manifest.sig``."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise InvalidInput(f"{dest} is not empty: give a new folder for the package")
    private_folder(dest / "images")
    reads.write_csv(dest / "reads.csv")
    reads.write_parquet(dest / "reads.parquet")
    (dest / "map.html").write_text(_map_html(reads, f"Reads released for case {meta['case']}"))
    for column in ("image_path", "crop_path"):
        if column in reads.columns:
            for value in reads[column].drop_nulls().to_list():
                source = images.locate(value)
                if source is not None:
                    shutil.copyfile(source, dest / "images" / source.name)
    for p in dest.rglob("*"):
        p.chmod(0o700 if p.is_dir() else 0o600)  # evidence: its owner's alone until it is handed over
    files = {
        str(p.relative_to(dest)): _sha256(p)
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name not in (MANIFEST, SIGNATURE)
    }
    manifest = {
        **meta,
        "released_at": dt.datetime.now(dt.UTC).isoformat(),
        "reads": reads.height,
        "files": files,
    }
    write_private(dest / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())
    digest = _sha256(dest / MANIFEST)
    signature = sign(digest.encode()) if sign is not None else None
    if signature is not None:
        write_private(dest / SIGNATURE, json.dumps(signature, indent=2).encode())
    return digest


def manifest_sha256(path: Path) -> str | None:
    """The SHA-256 of a package's manifest, None when it has none."""
    try:
        return _sha256(Path(path) / MANIFEST)
    except OSError:
        return None


def _signature_problem(path: Path, trusted: list[PublicKey] | None) -> str | None:
    if trusted is None:
        return None
    try:
        sig = json.loads((path / SIGNATURE).read_text())
        key_id, signature = str(sig["key_id"]), str(sig["signature"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{SIGNATURE} is missing or unreadable: the package is not signed by the department"
    key = next((k for k in trusted if k.key_id == key_id), None)
    if key is None:
        return f"{SIGNATURE} names key {key_id}, which is not among the public keys given"
    digest = manifest_sha256(path) or ""
    if not key.verify("manifest", digest.encode(), signature):
        return f"{MANIFEST} does not match the department's signature (changed after release)"
    return None


def verify_package(
    path: Path, *, trusted: list[PublicKey] | None = None, recorded: set[str] | None = None
) -> list[str]:
    """Problems found in a package (empty when it is whole): a manifest the department's keys (``trusted``)
    did not sign, a manifest other than any recorded at release (``recorded``: the manifests' SHA-256s in the
    database), changed, missing or added files."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        listed: dict[str, str] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{MANIFEST} is missing or unreadable"]
    problems = []
    wrong_signature = _signature_problem(path, trusted)
    if wrong_signature:
        problems.append(wrong_signature)
    if recorded is not None and manifest_sha256(path) not in recorded:
        problems.append(f"{MANIFEST} is not the manifest recorded in the database at release (changed after)")
    for name, digest in sorted(listed.items()):
        file = path / name
        if not file.is_file():
            problems.append(f"{name} is missing")
        elif _sha256(file) != digest:
            problems.append(f"{name} was changed")
    present = {
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, SIGNATURE)
    }
    problems += [f"{name} was added" for name in sorted(present - set(listed))]
    return problems
