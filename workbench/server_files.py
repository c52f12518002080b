"""Each member's notebooks are their own: JupyterLab's files as a member sees them.

JupyterLab's folder holds ``shipped/`` — the analyst and training notebooks, which every member may
open but none may change — and ``members/NAME/``, each member's own folder. A member lists, opens and
saves only those; opening, saving, renaming, copying or deleting anything else is refused and audited.
Notebooks are saved without their outputs: outputs are plate data, and a notebook is re-run through
the door (which audits it) rather than kept with what it once showed.
"""

from __future__ import annotations

import contextvars
from typing import Any

from jupyter_server.base.call_context import CallContext
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

from alpr_lib.access.logon import record_refusal

from . import sandbox
from .servers import runtime

__all__ = ["MembersContentsManager", "allowed", "strip_outputs"]

SHIPPED = "shipped"
MEMBERS = "members"
_LISTING: contextvars.ContextVar[bool] = contextvars.ContextVar("workbench_listing", default=False)


def allowed(member: str, path: str, *, write: bool) -> bool:
    """Whether ``member`` may read (or, with ``write``, change) the file or folder at ``path``."""
    parts = [p for p in path.strip("/").split("/") if p]
    if any(p in (".", "..") for p in parts):
        return False
    own = len(parts) >= 2 and parts[0] == MEMBERS and parts[1] == member
    if write:
        return own and len(parts) >= 3
    return not parts or parts == [MEMBERS] or parts[0] == SHIPPED or own


def strip_outputs(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook without outputs or execution counts (a copy of each cell that had any)."""
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell = {**cell, "outputs": [], "execution_count": None}
        cells.append(cell)
    return {**notebook, "cells": cells}


def _member() -> str | None:
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    user = getattr(handler, "current_user", None) if handler is not None else None
    return user.username if user else None


class MembersContentsManager(AsyncLargeFileManager):  # type: ignore[misc]
    """Contents in which a member reaches their own folder and the shipped notebooks only."""

    def _check(self, path: str, *, write: bool, action: str) -> None:
        member = _member()
        if member is None:
            return
        if sandbox.PLAN is not None:
            sandbox.PLAN.member_folder(member)  # a member's folder exists from their first request
        if allowed(member, path, write=write):
            return
        run = runtime()
        record_refusal(
            run.store,
            client=run.client,
            operation="notebook.refused",
            user_name=member,
            params={"path": path.strip("/")[:400], "action": action},
            detail="another member's files, or a read-only notebook",
        )
        raise web.HTTPError(403, "that file is not yours to " + ("change" if write else "open"))

    async def get(self, path: str, content: bool = True, **kwargs: Any) -> dict[str, Any]:
        if not _LISTING.get():
            self._check(path, write=False, action="open")
        # A folder's listing gets each entry's model: those inner calls are filtered below, not refused.
        inner = _LISTING.set(True)
        try:
            model: dict[str, Any] = await super().get(path, content=content, **kwargs)
        finally:
            _LISTING.reset(inner)
        member = _member()
        if member is not None and model.get("type") == "directory" and isinstance(model.get("content"), list):
            model["content"] = [m for m in model["content"] if allowed(member, m["path"], write=False)]
        return model

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        self._check(path, write=True, action="save")
        if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
            model = {**model, "content": strip_outputs(model["content"])}
        return await super().save(model, path)  # type: ignore[no-any-return]

    async def delete_file(self, path: str) -> None:
        self._check(path, write=True, action="delete")
        await super().delete_file(path)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        self._check(old_path, write=True, action="rename")
        self._check(new_path, write=True, action="rename")
        await super().rename_file(old_path, new_path)

    async def copy(self, from_path: str, to_path: str | None = None) -> dict[str, Any]:
        self._check(from_path, write=False, action="copy")
        if to_path is not None:
            self._check(to_path, write=True, action="copy")
        return await super().copy(from_path, to_path)  # type: ignore[no-any-return]

    async def new_untitled(self, path: str = "", type: str = "", ext: str = "") -> dict[str, Any]:
        self._check(path + "/x", write=True, action="create")
        return await super().new_untitled(path=path, type=type, ext=ext)  # type: ignore[no-any-return]

    async def create_checkpoint(self, path: str) -> dict[str, Any]:
        self._check(path, write=True, action="checkpoint")
        return await super().create_checkpoint(path)  # type: ignore[no-any-return]

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        self._check(path, write=False, action="checkpoints")
        return await super().list_checkpoints(path)  # type: ignore[no-any-return]

    async def restore_checkpoint(self, checkpoint_id: str, path: str) -> None:
        self._check(path, write=True, action="restore")
        await super().restore_checkpoint(checkpoint_id, path)

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        self._check(path, write=True, action="checkpoint")
        await super().delete_checkpoint(checkpoint_id, path)
