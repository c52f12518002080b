"""The analyst and training notebooks are checked by nbval against their saved outputs: show that a changed
output fails the check (the same notebook unchanged passes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEMO_PASSWORD, TEST_RETENTION_DAYS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def nbval(notebook: Path, demo_db: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(
        WORKBENCH_DB_URL=demo_db,
        WORKBENCH_USER="analyst",
        WORKBENCH_PASSWORD=DEMO_PASSWORD,
        WORKBENCH_DATA_DIR=str(tmp_path / "data"),
        WORKBENCH_KEY_DIR=os.environ["WORKBENCH_KEY_DIR"],  # the run's: the demo city is signed with its key
        WORKBENCH_RETENTION_DAYS=str(TEST_RETENTION_DAYS),  # the city is a fixed past month
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "door",
            "--",
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            str(notebook),
            "--nbval-sanitize-with",
            str(ROOT / "notebooks" / "sanitize.cfg"),
            "-p",
            "no:cacheprovider",
            "-o",
            "filterwarnings=",
            "-q",
            "--rootdir",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def test_nbval_compares_saved_outputs(demo_db: str, tmp_path: Path) -> None:
    source = ROOT / "notebooks" / "02-partial-plate.ipynb"
    same = tmp_path / "same.ipynb"
    shutil.copy(source, same)
    assert nbval(same, demo_db, tmp_path).returncode == 0
    changed = tmp_path / "changed.ipynb"
    text = source.read_text()
    assert "4ZHB100" in text
    changed.write_text(text.replace("4ZHB100", "4ZHB999"))
    failed = nbval(changed, demo_db, tmp_path)
    assert failed.returncode != 0 and "4ZHB100" in failed.stdout
