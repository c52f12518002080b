"""The floors of ARCHITECTURE.md, checked on the import statements of every module."""

import ast
from pathlib import Path

import pytest

import alpr_lib

ROOT = Path(__file__).resolve().parent.parent
DATABASE_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "psycopg2", "alpr_lib.store")


def imports(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        import json

        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    else:
        source = path.read_text()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def files(*folders: str) -> list[Path]:
    return [p for f in folders for p in (ROOT / f).rglob("*") if p.suffix in (".py", ".ipynb")]


def offending(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    return [
        f"{p.name} imports {name}"
        for p in paths
        for name in sorted(imports(p))
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]


def test_apps_notebooks_and_ui_never_touch_the_database() -> None:
    assert offending(files("voila_apps", "notebooks", "workbench/ui"), DATABASE_MODULES) == []


def test_the_rule_test_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from alpr_lib.store import Store\nimport sqlalchemy as sa\n")
    assert len(offending([bad], DATABASE_MODULES)) >= 2


def test_the_library_never_imports_the_application() -> None:
    assert offending(files("alpr_lib"), ("workbench", "ipywidgets", "folium", "voila", "IPython")) == []


@pytest.mark.parametrize("floor", ["alpr_lib/store", "alpr_lib/plates.py", "alpr_lib/synth.py"])
def test_lower_floors_never_call_up(floor: str) -> None:
    paths = [ROOT / floor] if floor.endswith(".py") else files(floor)
    up = ("alpr_lib.access", "alpr_lib.hotlists", "alpr_lib.ingest", "alpr_lib.retention")
    relative_up = [
        p for p in paths if any(f"from ..{m}" in p.read_text() for m in ("access", "hotlists", "ingest"))
    ]
    assert offending(paths, up) == [] and relative_up == []


def test_public_api_is_what_all_lists() -> None:
    public = {name for name in dir(alpr_lib) if not name.startswith("_")}
    modules = {
        "access",
        "analytics",
        "errors",
        "matching",
        "plates",
        "synth",
        "store",
        "ingest",
        "hotlists",
        "recognition",
        "recognition_intake",
        "retention",
        "media",
        "validate",
        "keys",
        "vehicles",
        "vendors",
        "exports",
    }
    assert public - modules == set(alpr_lib.__all__)
    for name in alpr_lib.__all__:
        assert getattr(alpr_lib, name).__doc__, f"{name} has no docstring"


def test_the_library_reads_no_environment() -> None:
    # Department policy and engines are passed in; a notebook kernel cannot steer the library by its env.
    reads = [
        str(p.relative_to(ROOT))
        for p in files("alpr_lib")
        if "os.environ" in p.read_text() or "getenv(" in p.read_text()
    ]
    assert reads == []
