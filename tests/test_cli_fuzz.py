"""Every command of the CLI driven with extreme and malformed values (hypothesis): integers past 64 bits,
NaN and infinities, the first and last days of the calendar, control characters, empty and very long text,
paths to files that are not the workbench's. Whatever is typed, a command answers with its result or with
one line on standard error and the documented exit status (1 refused or failed, 2 a usage error) — never
"unexpected failure", never a traceback.

The commands that start servers (lab, serve, door) or load the recognition models (ingest, evaluate) are
driven elsewhere; ``demo`` is given small sizes only (it rebuilds the database).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_lib.store import Store
from workbench.cli import main

from .conftest import DEMO_PASSWORD, copy_of

pytestmark = pytest.mark.slow

SKIPPED = {"lab", "serve", "door", "ingest", "evaluate", "demo", "notebooks list"}


def _leaves(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from _leaves(command, path)
        else:
            yield path, command


COMMANDS = [
    (path, cmd) for path, cmd in _leaves(main) if " ".join(path) not in SKIPPED and path[0] not in SKIPPED
]

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "9" * 30,
        str(2**63),
        str(2**64 + 1),
        "-1",
        "0",
        "nan",
        "inf",
        "-inf",
        "1e309",
        "9999-12-31",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01",
        "0001-01-01T00:00:00+14:00",
        "2026-13-45",
        "2062-01-01",
        "9999Q4",
        "0Q1",
        "٢٦-٠١٢٣٤",
        "26-01234",
        "\x1b[2J\x1b]0;x\x07",
        "a\x00b",
        "line\nbreak",
        "*",
        "?" * 20,
        "[",
        "ABC123",
        "91,500",
        "nan,nan",
        "1,2,3,4",
        "/etc/passwd",
        "/",
        "../../etc/shadow",
        "mysql://root@localhost/x",
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "x" * 5000,
    ]
) | st.text(max_size=40)


def _value(param: click.Parameter) -> st.SearchStrategy[Any]:
    if isinstance(param.type, click.Choice):
        return st.sampled_from(list(param.type.choices)) | HOSTILE_TEXT
    return HOSTILE_TEXT


def _arguments(command: click.Command) -> st.SearchStrategy[list[str]]:
    parts: list[st.SearchStrategy[list[str]]] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else 2
            parts.append(st.lists(_value(param), min_size=count, max_size=count))
        elif isinstance(param, click.Option) and param.name not in ("db", "help"):
            flag = param.opts[-1]
            if param.is_flag:
                parts.append(st.sampled_from([[], [flag]]))
            else:
                parts.append(st.one_of(st.just([]), _value(param).map(lambda v, f=flag: [f, v])))
    if not parts:
        return st.just([])
    return st.tuples(*parts).map(lambda chunks: [x for chunk in chunks for x in chunk])


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, demo_template: str, key_folder: Path) -> dict[str, str]:
    return _own_city(tmp_path_factory, demo_template, key_folder)


@pytest.fixture(scope="module")
def calm_env(
    tmp_path_factory: pytest.TempPathFactory, demo_template: str, key_folder: Path
) -> dict[str, str]:
    """A city of its own for the table of values: the fuzzing may close a demo case, disable a member ..."""
    return _own_city(tmp_path_factory, demo_template, key_folder)


def _own_city(
    tmp_path_factory: pytest.TempPathFactory, demo_template: str, key_folder: Path
) -> dict[str, str]:
    """A copy of the demo city with a copy of its key folder: the fuzzing rotates keys too."""
    tmp = tmp_path_factory.mktemp("fuzz")
    url = copy_of(demo_template, tmp, "fuzz")
    Store(url).dispose()
    shutil.copytree(key_folder, tmp / "keys")
    return {
        "WORKBENCH_KEY_DIR": str(tmp / "keys"),
        "WORKBENCH_DB_URL": url,
        "WORKBENCH_PASSWORD": DEMO_PASSWORD,
        "WORKBENCH_NEW_PASSWORD": "a-new-password-2026",
        "WORKBENCH_DATA_DIR": str(tmp / "data"),
        "WORKBENCH_USER": "admin",
    }


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_command_fails_unexpectedly(
    path: tuple[str, ...], command: click.Command, env: dict[str, str], data: st.DataObject, tmp_path: Path
) -> None:
    args = data.draw(_arguments(command))
    os.chdir(tmp_path)  # files a command writes by a relative name land here
    result = CliRunner().invoke(main, [*path, *args], env=env, catch_exceptions=True, input="")
    shown = [*path, *args]
    err = result.stderr.strip()
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        shown,
        repr(result.exception),
    )
    assert "unexpected failure" not in err and "Traceback" not in err, (shown, err)
    assert result.exit_code in (0, 1, 2), (shown, result.exit_code, err)
    if result.exit_code:
        assert err.startswith("Error: ") and "\n" not in err, (shown, err)


BIG = str(2**63)  # one past the largest 64-bit integer
WHY = [
    "--purpose",
    "investigation",
    "--case",
    "26-01234",
    "--reason",
    "edge values",
    "--user",
    "investigator",
]
LATELY = (dt.date.today() - dt.timedelta(days=5)).isoformat()
SCENE = "43.97,-124.10,500,2026-10-05T00:00,2026-10-06T00:00"
#: The values that once crashed a command, with the exit status each must now give.
ONCE_CRASHED = [
    (["search", "plate", "ABC123", "--to", "9999-12-31", *WHY], 0),
    (["search", "partial", "ABC*", "--to", "9999-12-31", *WHY], 0),
    (["search", "fuzzy", "ABC123", "--to", "9999-12-31", *WHY], 0),
    (["canvass", "--at", "43.97,-124.10", "--from", LATELY, "--to", "9999-12-31", *WHY], 0),  # to tomorrow
    (["canvass", "--at", "43.97,-124.10", "--from", "2026-10-05", "--to", "9999-12-31", *WHY], 1),  # too long
    (["common", "--scene", SCENE, "--scene", "43.97,-124.10,500,2026-10-07,9999-12-31", *WHY], 1),
    (["audit", "report", "--since", "0001-01-01", "--user", "supervisor"], 0),
    (["purge", "--dry-run", "--now", "0001-01-01", "--user", "admin"], 0),
    (["search", "plate", "ABC123", "--limit", BIG, *WHY], 2),
    (["hold", "approve", BIG, "--user", "supervisor"], 2),
    (["hold", "release", BIG, "--user", "supervisor"], 2),
    (["alerts", "verify", BIG, "--result", "confirmed", "--note", "LEDS check", *WHY], 2),
    (["hold", "add", "--read", BIG, "--case", "26-01234", "--reason", "kept", "--user", "supervisor"], 2),
    (["users", "train", "analyst", "--valid-days", BIG, "--user", "admin"], 2),
    (["audit", "quarterly", "--quarter", "9999Q4", "--user", "supervisor"], 1),
    (["audit", "quarterly", "--quarter", "٢٠٢٦Q4", "--user", "supervisor"], 1),
    (["info", "--db", "mysql://root@localhost/alpr"], 1),
    (["ingest", "images", ".", "--camera", "C", "--every", "nan", "--user", "admin"], 2),
    (["purge", "--now", "2062-01-01", "--user", "admin"], 1),  # a typo for 2026: asks, refuses here
    (["audit", "verify", "--checkpoint", sys.executable, "--user", "supervisor"], 1),  # a binary: "damaged"
    (["release", "agency", "", "--kind", "prosecutorial", "--state", "OR", "--user", "admin"], 1),
]


@pytest.mark.parametrize("args,status", ONCE_CRASHED, ids=[" ".join(a[:2]) for a, _ in ONCE_CRASHED])
def test_values_that_once_crashed_a_command_get_a_plain_answer(
    args: list[str], status: int, calm_env: dict[str, str], tmp_path: Path
) -> None:
    os.chdir(tmp_path)
    result = CliRunner().invoke(main, args, env={**calm_env, "WORKBENCH_USER": ""}, input="")
    err = result.stderr.strip()
    assert result.exit_code == status, (args, err)
    assert "unexpected failure" not in err
    if status:
        assert err.startswith("Error: ") and "\n" not in err, err
