"""Generated documentation: the CLI reference (docs/cli.md is kept in sync with cog)."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner

from .cli import main

__all__ = ["cli_reference"]


def _walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name in sorted(group.commands):
        cmd = group.commands[name]
        yield (*path, name)
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, (*path, name))


def cli_reference() -> str:
    """Markdown with the ``--help`` of every command, in a stable width."""
    runner = CliRunner()
    parts = []
    for path in [(), *_walk(main)]:
        result = runner.invoke(main, [*path, "--help"], prog_name="workbench", terminal_width=100)
        title = " ".join(("workbench", *path))
        parts.append(f"## `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)
