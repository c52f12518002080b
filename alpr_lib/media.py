"""The image store: the one folder whose files the workbench opens, copies and destroys for reads.

A read's image and plate crop are named by a path *relative to the store* (``intake/3fa2….jpg``,
``crops/3fa2…-0.jpg``, or a vendor's ``cam7/2026-11-03/0001.jpg`` copied in beside its CSV). Whatever a
CSV, a database row or a notebook names, :meth:`ImageStore.locate` answers only for a regular file that
lies inside the store once every link is followed: ``/etc/passwd``, ``../../workbench.db``, a symbolic
link out, a folder or a device are never opened, copied into a release or deleted by a purge. Files the
store writes are private to their owner (mode 0600, folders 0700).

>>> images = ImageStore(Path("/srv/alpr/images"))  # doctest: +SKIP
>>> images.from_import("cam7/0001.jpg")  # doctest: +SKIP
'cam7/0001.jpg'
>>> images.from_import("/etc/passwd")  # doctest: +SKIP
Traceback (most recent call last):
InvalidInput: the image is not in the workbench's image store ...
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath

from .errors import InvalidInput

__all__ = ["MAX_IMAGE_BYTES", "ImageStore", "append_private", "private_folder", "write_private"]

#: The largest image file an import copies in (a camera's overview JPEG is well under a megabyte).
MAX_IMAGE_BYTES = 50 * 2**20


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) readable by its owner only; an existing folder keeps its mode."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new or existing file at ``path``, mode 0600 (an existing file made so), never
    following a link there; on disk when this returns (a key, a record, an export is not half-written)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def append_private(path: Path, text: str) -> None:
    """Append ``text`` to the file at ``path`` (its folder and the file made private to their owner when
    created here, an existing file made so), never following a link there."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(text)


class ImageStore:
    """The folder of reads' images and crops (``<data_dir>/images`` by default); see the module docstring.

    ``root`` None: a workbench with no image store (the library used alone) — no image path is accepted
    and none is ever opened.
    """

    def __init__(self, root: Path | str | None) -> None:
        self.root = Path(root).resolve() if root else None

    def _require(self) -> Path:
        if self.root is None:
            raise InvalidInput("this workbench keeps no images (no image store is set)")
        return self.root

    def from_import(self, value: str) -> str:
        """A path named by an import (relative to the store, or absolute inside it) as the store's relative
        path; anything that leads outside the store is refused. The file need not exist yet."""
        root = self._require()
        text = value.strip()
        if "\x00" in text or "://" in text:
            raise InvalidInput(self._outside())
        path = Path(text)
        if not path.is_absolute():
            path = root / path
        # Lexically first (".." and absolute paths), then after following any link that exists now.
        parts = PurePosixPath(os.path.normpath(path))
        try:
            relative = parts.relative_to(root)
        except ValueError:
            raise InvalidInput(self._outside()) from None
        if not relative.parts or self.locate(str(relative), must_exist=False) is None:
            raise InvalidInput(self._outside())
        return str(relative)

    def _outside(self) -> str:
        return (
            f"the image is not in the workbench's image store ({self.root}): copy the vendor's images "
            "there and name them relative to it"
        )

    def locate(self, relative: str | None, *, must_exist: bool = True) -> Path | None:
        """The file a read's stored path names, or None when it is not a regular file inside the store
        (outside it, through a link that leaves it, a folder, a device — or missing, with ``must_exist``)."""
        if not relative or self.root is None or os.path.isabs(relative) or "\x00" in relative:
            return None
        candidate = self.root / relative
        try:
            real = candidate.resolve(strict=must_exist)
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(self.root) or real == self.root:
            return None
        if must_exist:
            try:
                if not stat.S_ISREG(real.stat().st_mode):
                    return None
            except OSError:
                return None
        return real

    def bring_in(self, folder: Path, value: str) -> str:
        """Copy the image a vendor's CSV names (relative to ``folder``, the export's image folder the
        administrator gave) into the store's ``vendor/`` folder, named by its content's hash, and return
        its relative path. A name that leads outside ``folder`` (``..``, an absolute path elsewhere, a link
        out), a folder, or a file larger than :data:`MAX_IMAGE_BYTES` is refused without being read."""
        folder = Path(folder).resolve()
        text = value.strip()
        if not text or "\x00" in text or "://" in text:
            raise InvalidInput("the image is not in the export's image folder")
        try:
            real = (folder / text).resolve(strict=True)
        except (OSError, RuntimeError):
            raise InvalidInput("the image is not in the export's image folder") from None
        if not real.is_relative_to(folder) or not real.is_file():
            raise InvalidInput("the image is not in the export's image folder")
        if real.stat().st_size > MAX_IMAGE_BYTES:
            raise InvalidInput(f"the image is larger than {MAX_IMAGE_BYTES // 2**20} MiB")
        data = real.read_bytes()
        name = hashlib.sha256(data).hexdigest()[:32] + real.suffix.lower()[:8]
        return self.keep("vendor", name, data)

    def keep(self, folder: str, name: str, data: bytes) -> str:
        """Write ``data`` as ``folder/name`` inside the store (private); returns its relative path."""
        root = self._require()
        target = private_folder(root / folder) / name
        write_private(target, data)
        return f"{folder}/{name}"

    def destroy(self, relative: str) -> bool:
        """Delete a read's file. True when it is gone (deleted now, or missing already); False — nothing
        touched — when the name leads outside the store, or to a folder, a device or anything else that is
        not a regular file, or the file cannot be deleted."""
        real = self.locate(relative, must_exist=False)
        if real is None:
            return False
        try:
            if not stat.S_ISREG(real.lstat().st_mode):
                return False
            real.unlink()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True
