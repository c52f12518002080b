"""The docs speak for the code: generated parts are current, every setting and command documented."""

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.config import SETTINGS, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("doc", ["docs/admin-guide.md", "docs/cli.md"])
def test_generated_docs_are_current(doc: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(ROOT / doc)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, f"{doc} is out of date: run `cog -r {doc}`\n{result.stdout}{result.stderr}"


def test_every_setting_is_in_the_admin_guide() -> None:
    guide = (ROOT / "docs/admin-guide.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in guide


def test_settings_come_from_environment_then_file_then_default(tmp_path: Path) -> None:
    cfg = tmp_path / "wb.toml"
    cfg.write_text('retention_days = 45\ntimezone = "America/Boise"\n')
    env = {
        "WORKBENCH_CONFIG": str(cfg),
        "WORKBENCH_TIMEZONE": "America/Los_Angeles",
        "WORKBENCH_DATA_DIR": str(tmp_path),
    }
    s = load_settings(env)
    assert s.retention_days == 45 and s.timezone == "America/Los_Angeles"
    assert s.db_url == f"sqlite:///{tmp_path / 'workbench.db'}"
    assert s.case_format == r"\d{2}-\d{4,6}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WORKBENCH_RETENTION_DAYS": "soon"}, "retention_days"),
        ({"WORKBENCH_TIMEZONE": "Mars/Olympus"}, "timezone"),
        ({"WORKBENCH_CASE_FORMAT": "(("}, "case_format"),
        ({"WORKBENCH_CONFIG": "/nonexistent.toml"}, "does not exist"),
        ({"WORKBENCH_AUDIT_RETENTION_DAYS": "30"}, "at least 365"),
    ],
)
def test_bad_settings_are_refused(env: dict[str, str], message: str, tmp_path: Path) -> None:
    from alpr_lib.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        load_settings({"WORKBENCH_DATA_DIR": str(tmp_path), **env})


def test_readme_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci/run").read_text()
