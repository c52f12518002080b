"""The department's key, tried from an insider's seat: someone who can write the database file (or the table),
reads the code, and computes hashes exactly as the workbench does — but does not hold the key."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alpr_lib.access import build_demo, login
from alpr_lib.access.audit import entry_hash
from alpr_lib.errors import KeyUnavailable
from alpr_lib.keys import KeyRing
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD

ENV = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
WHY = ["--purpose", "investigation", "--case", "26-01234", "--reason", "evidence for prosecution"]


def forge(store: Store, **changes: Any) -> int:
    """Append an entry straight to the table, its hash computed as the code computes it ("the old way"):
    a search by the investigator that never happened. Returns its id."""
    table = s.AuditEntry.__table__
    with store.engine.begin() as conn:
        last = dict(conn.execute(sa.select(table).order_by(table.c.id.desc()).limit(1)).mappings().one())
        fields = {
            **{k: v for k, v in last.items() if k not in ("id", "hash", "key_id", "signature")},
            "user_name": "investigator",
            "role": "investigator",
            "operation": "search.plate",
            "outcome": "ok",
            "prev_hash": last["hash"],
            "key_id": None,
            "signature": None,
            **changes,
        }
        fields["hash"] = entry_hash(last["hash"], fields)
        return int(conn.execute(table.insert().returning(table.c.id), fields).scalar_one())


def verify(run: Any, db: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = run(
        "audit", "verify", "--json", "--user", "supervisor", "--db", db,
        "--checkpoint", str(tmp_path / "cp.jsonl"), *extra, env=ENV, ok=False,
    )  # fmt: skip
    return out.exit_code, json.loads(out.stdout) if out.stdout.strip() else {}, out.stderr


def test_an_entry_appended_without_the_key_fails_verify_naming_it(
    run: Any, city: Store, tmp_path: Path
) -> None:
    db = str(city.url)
    code, report, _ = verify(run, db, tmp_path)
    assert code == 0 and report["ok"] and report["signed"] == report["rows"] - report["unsigned"]
    assert report["unsigned"] == 0 and report["signed"] > 0
    if city.dialect == "postgresql":
        # The database itself refuses an entry not signed with its current key (migration 0017) ...
        with pytest.raises(sa.exc.OperationalError, match="signed with the current key"):
            forge(city)
        # ... until its owner turns the check off, as an insider with the owner's password can.
        with city.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_links")
    forged = forge(city)
    # The workbench goes on writing after it: the forged entry is still named, not vouched for.
    login(city, "admin", DEMO_PASSWORD).list_users()
    code, report, err = verify(run, db, tmp_path)
    assert code == 1 and report["ok"] is False and report["first_bad"] == forged
    assert f"at entry {forged}" in err and "without the key" in err
    # Copying a genuine entry's signature onto it does not help: a signature is of one entry's hash.
    with city.engine.begin() as conn:
        genuine = conn.execute(sa.select(s.AuditEntry.key_id, s.AuditEntry.signature).limit(1)).one()
    second = forge(city, key_id=genuine.key_id, signature=genuine.signature)
    code, report, err = verify(run, db, tmp_path)
    assert code == 1 and report["first_bad"] == forged and report["unsigned"] >= 2
    # The refusal is itself on the record, with who asked.
    with city.read() as conn:
        last = conn.execute(
            sa.select(s.AuditEntry.operation, s.AuditEntry.user_name, s.AuditEntry.id)
            .where(s.AuditEntry.operation == "audit.verify")
            .order_by(s.AuditEntry.id.desc())
            .limit(1)
        ).one()
    assert last.user_name == "supervisor" and last.id > second


def test_a_process_without_the_key_cannot_write_to_the_log(city: Store, tmp_path: Path) -> None:
    """The database file alone (no key folder) opens, but nothing can be done through it that would write an
    entry the key did not sign."""
    bare = Store(str(city.url), keys=KeyRing(tmp_path / "no-keys"))
    with pytest.raises(KeyUnavailable, match="not in"):
        login(bare, "admin", DEMO_PASSWORD)
    bare.dispose()


def test_the_auditor_verifies_an_exported_log_with_the_public_keys_alone(
    run: Any, city: Store, tmp_path: Path
) -> None:
    db = str(city.url)
    bundle, log = tmp_path / "department-keys.json", tmp_path / "audit-log.jsonl"
    run("keys", "export", str(bundle), "--user", "supervisor", "--db", db, env=ENV)
    assert "PRIVATE" not in bundle.read_text() and json.loads(bundle.read_text())["keys"]
    run(
        "audit", "export", "--format", "jsonl", "--out", str(log), "--user", "supervisor", "--db", db, env=ENV
    )
    # The auditor's machine: no database, no key folder, no login.
    auditor = {"WORKBENCH_DATA_DIR": str(tmp_path / "auditor"), "WORKBENCH_KEY_DIR": str(tmp_path / "none")}
    ok = run("audit", "verify", "--log", str(log), "--key", str(bundle), "--json", env=auditor)
    assert json.loads(ok.stdout)["ok"] is True
    lines = log.read_text().splitlines()
    entry = json.loads(lines[3])
    entry["user_name"] = "trainee"  # blame someone else, and re-hash it as the code does
    entry["hash"] = entry_hash(entry["prev_hash"], entry)
    lines[3] = json.dumps(entry)
    log.write_text("\n".join(lines) + "\n")
    bad = run("audit", "verify", "--log", str(log), "--key", str(bundle), "--json", env=auditor, ok=False)
    assert bad.exit_code == 1 and json.loads(bad.stdout)["first_bad"] == entry["id"]


@pytest.fixture
def own_keys(
    city: Store, key_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """The city with a key folder of its own (a copy of the run's), for tests that rotate its key."""
    import shutil

    folder = tmp_path / "own-keys"
    shutil.copytree(key_folder, folder)
    monkeypatch.setenv("WORKBENCH_KEY_DIR", str(folder))
    store = Store(str(city.url), keys=KeyRing(folder))
    yield store
    store.dispose()


def test_rotation_keeps_the_old_entries_verifiable_and_retires_the_old_key(
    run: Any, own_keys: Store, tmp_path: Path
) -> None:
    city = own_keys
    db = str(city.url)
    before = json.loads(run("keys", "show", "--json", "--user", "admin", "--db", db, env=ENV).stdout)
    old = before["signing_key"]
    ring = city.keys
    assert ring is not None and ring.has_private(old)
    old_private = ring.private(old)
    rotated = json.loads(run("keys", "rotate", "--json", "--user", "admin", "--db", db, env=ENV).stdout)
    assert rotated["retired"] == old and rotated["key_id"] != old
    assert not (ring.folder / f"{old}.key").exists() and (ring.folder / f"{old}.json").exists()
    login(city, "analyst", DEMO_PASSWORD)  # a logon: an entry under the new key
    code, report, _ = verify(run, db, tmp_path)
    assert code == 0 and report["ok"] and len(report["keys"]) >= 2
    # Whoever kept a copy of the old key cannot sign with it after the rotation.
    from alpr_lib import keys

    with city.engine.begin() as conn:
        last = conn.execute(
            sa.select(s.AuditEntry.hash).order_by(s.AuditEntry.id.desc()).limit(1)
        ).scalar_one()
    if city.dialect == "postgresql":
        # The database refuses an entry under a key rotated out (migration 0017), until its owner turns
        # its checks off.
        with pytest.raises(sa.exc.OperationalError, match="signed with the current key"):
            forge(city, key_id=old)
        with city.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
    fake = forge(city, key_id=old)
    with city.engine.begin() as conn:
        h = conn.execute(sa.select(s.AuditEntry.hash).where(s.AuditEntry.id == fake)).scalar_one()
        signature = keys.sign(old_private, "audit", h.encode())
        conn.exec_driver_sql(
            "DROP TRIGGER IF EXISTS audit_log_no_update"
        ) if city.is_sqlite else conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(sa.update(s.AuditEntry).where(s.AuditEntry.id == fake).values(signature=signature))
    assert last != h
    code, report, err = verify(run, db, tmp_path)
    assert code == 1 and report["first_bad"] == fake and "rotated out" in err


def test_the_key_and_the_database_are_private_after_init_and_demo(run: Any, tmp_path: Path) -> None:
    os.umask(0o022)  # a permissive shell: the workbench must not rely on it
    keys = tmp_path / "keys"
    env = {"WORKBENCH_KEY_DIR": str(keys), "WORKBENCH_PASSWORD": "first-admin-pass-2026"}
    for command, name in ((["init"], "init.db"), (["demo", "--reads", "1000"], "demo.db")):
        path = tmp_path / name
        run(*command, "--db", f"sqlite:///{path}", env={**env, "WORKBENCH_DEMO_PASSWORD": DEMO_PASSWORD})
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    made = sorted(keys.iterdir())
    assert len(made) == 4 and {p.suffix for p in made} == {".key", ".json"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in made)


def test_a_demo_built_by_the_library_is_private_whatever_the_umask(tmp_path: Path) -> None:
    """A department's own script calls the library, not the CLI (whose umask is 077): the file a demo
    replaces, with its write-ahead log, is its owner's alone all the same."""
    path = tmp_path / "scripted.db"
    store = Store(f"sqlite:///{path}", create=True, keys=KeyRing(tmp_path / "keys"))
    old = os.umask(0o022)
    try:
        build_demo(store, reads=1000, seed=3, password=DEMO_PASSWORD)
        made = [path, *tmp_path.glob("scripted.db-*")]
        assert len(made) >= 2
        assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {p.name: "0o600" for p in made}
    finally:
        os.umask(old)
        store.dispose()


def test_backup_copies_the_keys_apart_from_the_data(run: Any, city: Store, tmp_path: Path) -> None:
    dest = tmp_path / "backups" / "wb.db"
    out = json.loads(
        run("backup", str(dest), "--user", "admin", "--db", str(city.url), "--json", env=ENV).stdout
    )
    keys = Path(out["keys"])
    assert keys != dest.parent and stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert any(p.suffix == ".key" for p in keys.iterdir())
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.iterdir())
    # The copy opens with the backed-up keys alone, and its log verifies with them.
    copy = Store(f"sqlite:///{dest}", keys=KeyRing(keys))
    login(copy, "supervisor", DEMO_PASSWORD).verify_audit()
    report, _ = login(copy, "supervisor", DEMO_PASSWORD).verify_audit()
    assert report.ok and report.signed == report.rows
    copy.dispose()


def _release(run: Any, db: str, package: Path, plate: str) -> None:
    run(
        "release", "create", "--agency", "Lane County District Attorney", "--plate", plate,
        "--out", str(package), *WHY, "--user", "investigator", "--db", db, env=ENV,
    )  # fmt: skip


def test_a_package_altered_and_rehashed_is_refused_with_and_without_the_database(
    run: Any, city: Store, manifest: dict, tmp_path: Path
) -> None:
    db = str(city.url)
    package, bundle = tmp_path / "pkg", tmp_path / "department-keys.json"
    _release(run, db, package, manifest["scenarios"]["clone"]["plate"])
    run("keys", "export", str(bundle), "--user", "supervisor", "--db", db, env=ENV)
    agency = {"WORKBENCH_KEY_DIR": str(tmp_path / "agency-has-no-keys")}
    assert json.loads(
        run("release", "verify", str(package), "--key", str(bundle), "--json", env=agency).stdout
    )["ok"]
    run("release", "verify", str(package), "--db", db, "--user", "supervisor", env=ENV)
    # The insider's edit: a row of reads.csv changed, its SHA-256 written into manifest.json.
    import hashlib

    csv = package / "reads.csv"
    csv.write_text(csv.read_text().replace(",", ";", 1))
    listed = json.loads((package / "manifest.json").read_text())
    listed["files"]["reads.csv"] = hashlib.sha256(csv.read_bytes()).hexdigest()
    (package / "manifest.json").write_text(json.dumps(listed, indent=2, sort_keys=True))
    by_agency = run("release", "verify", str(package), "--key", str(bundle), env=agency, ok=False)
    assert by_agency.exit_code == 1
    assert "manifest.json does not match the department's signature" in by_agency.stderr
    with_db = run(
        "release", "verify", str(package), "--db", db, "--user", "supervisor", "--json", env=ENV, ok=False
    )
    problems = json.loads(with_db.stdout)["problems"]
    assert with_db.exit_code == 1 and any("recorded in the database" in p for p in problems)
    # Without the signature file the package is not the department's either.
    (package / "manifest.sig").unlink()
    unsigned = run("release", "verify", str(package), "--key", str(bundle), env=agency, ok=False)
    assert unsigned.exit_code == 1 and "not signed" in unsigned.stderr


@pytest.mark.sqlite_only
def test_a_checkpoint_rewritten_to_hide_a_cut_log_is_refused(run: Any, city: Store, tmp_path: Path) -> None:
    """An insider who cuts the newest entries off and rewrites the checkpoint file to match the new end —
    its hash as the code computes it, but no signature — is caught: the checkpoint is not the department's."""
    import sqlite3

    db = str(city.url)
    assert verify(run, db, tmp_path)[0] == 0
    for _ in range(3):
        login(city, "analyst", DEMO_PASSWORD)
    city.dispose()
    con = sqlite3.connect(city.url.database)
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    last = con.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    con.execute("DELETE FROM audit_log WHERE id > ?", (last - 3,))
    con.commit()
    rows, head_id, head = con.execute(
        "SELECT count(*), max(id), (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) FROM audit_log"
    ).fetchone()
    con.close()
    checkpoints = tmp_path / "cp.jsonl"
    forged = {"rows": rows, "last_id": head_id, "hash": head, "at": "2026-12-06T00:00:00+00:00"}
    checkpoints.write_text(checkpoints.read_text() + json.dumps(forged) + "\n")
    code, report, err = verify(run, db, tmp_path)
    assert code == 1 and report["checkpoint"] is False and "not signed by the department's key" in err
