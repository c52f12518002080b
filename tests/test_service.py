"""The door as a service, from the attacker's seat: a real socket, real processes, the real store.

A kernel token works only from the process tree it was given to; anything else is refused and the
refusal audited with both identities. The codec builds only the door's own types. The client has
exactly the table of operations, and no call can override the department's policy.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from alpr_lib.access import AccessSession, Policy, login, wire
from alpr_lib.access.client import DoorClient
from alpr_lib.access.results import TimelineResult
from alpr_lib.access.service import DoorService
from alpr_lib.errors import InvalidInput, NotAuthenticated
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD

TRAINING = {"purpose": "training", "reason": "practising on the synthetic city"}


@pytest.fixture
def door(city: Store, tmp_path: Path) -> Iterator[DoorService]:
    # The door keeps its files in an image store a kernel is never told of.
    policy = Policy(image_store=str(tmp_path / "data" / "images"))
    service = DoorService(city, policy, tmp_path / "run" / "door.sock", client="lab", allow_password=True)
    service.start()
    yield service
    service.stop()


def entries(store: Store, operation: str) -> list[sa.Row]:
    with store.read() as conn:
        return conn.execute(
            sa.select(s.AuditEntry).where(s.AuditEntry.operation == operation).order_by(s.AuditEntry.id)
        ).all()


def _child(code: str) -> subprocess.Popen[str]:
    """A Python process standing in for a kernel: it runs ``code`` when told to on its stdin."""
    script = f"import sys\nsys.stdin.readline()\n{code}"
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )


def _in_child(child: subprocess.Popen[str]) -> str:
    out, _ = child.communicate("go\n", timeout=60)
    return out.strip()


_USE_TOKEN = """
import sys
from alpr_lib.access.client import DoorClient
from alpr_lib.access.results import TimelineResult
try:
    s = DoorClient({path!r}, kernel_token={token!r})
    s.set_purpose("training", reason="practising on the synthetic city")
    print("OK", s.name, s.search_partial("*1*").count)
except Exception as exc:
    print("REFUSED", type(exc).__name__, exc)
"""


def test_a_kernel_token_works_from_its_kernel_and_nowhere_else(door: DoorService, city: Store) -> None:
    path = str(door.path)
    searches = len(entries(city, "search.partial"))
    kernels: dict[str, subprocess.Popen[str]] = {}
    tokens: dict[str, str] = {}
    # Two "kernels", each known to the door by the process it launched. The trainee's kernel presents
    # the analyst's token, as if read from a notebook, a screen or /proc.
    for name, uses in (("analyst", "analyst"), ("trainee", "analyst")):
        pid: dict[str, int] = {}
        session = login(city, name, DEMO_PASSWORD)
        tokens[name] = door.kernels.register(
            f"kernel-of-{name}", name, session.token, pid_of=lambda p=pid: p.get("pid")
        )
        kernels[name] = _child(_USE_TOKEN.format(path=path, token=tokens[uses]))
        pid["pid"] = kernels[name].pid

    assert _in_child(kernels["trainee"]).startswith("REFUSED NotAuthenticated")
    refusal = entries(city, "door.connect")[-1]
    params = json.loads(refusal.params)
    assert (refusal.outcome, refusal.user_name, refusal.role) == ("denied", "analyst", "analyst")
    assert (params["kernel"], params["from_kernel"], params["from_member"]) == (
        "kernel-of-analyst",
        "kernel-of-trainee",
        "trainee",
    )
    assert params["peer"]["pid"] == kernels["trainee"].pid
    assert len(entries(city, "search.partial")) == searches

    # The analyst's own kernel uses its token: the search runs and is audited as the analyst's.
    assert _in_child(kernels["analyst"]).startswith("OK analyst")
    search = entries(city, "search.partial")[-1]
    assert (search.user_name, search.client, search.outcome) == ("analyst", "lab", "ok")

    # From a process outside every kernel (this test, an SSH session), the token is refused too.
    before = len(entries(city, "door.connect"))
    with pytest.raises(NotAuthenticated, match="only in the kernel"):
        DoorClient(path, kernel_token=tokens["analyst"])
    after = entries(city, "door.connect")
    assert len(after) == before + 1 and json.loads(after[-1].params)["from_kernel"] is None
    with pytest.raises(NotAuthenticated, match="not known"):
        DoorClient(path, kernel_token="made-up-token")
    assert entries(city, "door.connect")[-1].detail == "an unknown kernel token"


def test_a_kernel_kept_ready_opens_nothing_until_given_to_one_member(door: DoorService, city: Store) -> None:
    """A dashboard kernel started before its member arrived holds a token the door refuses, even from that
    kernel's own process; once given to a member it speaks for that member only, and it is never given
    to a second one."""
    path = str(door.path)
    pid: dict[str, int] = {}
    token = door.kernels.reserve("kept-1", pid_of=lambda: pid.get("pid"))
    kept = _child(_USE_TOKEN.format(path=path, token=token))
    pid["pid"] = kept.pid
    assert _in_child(kept).startswith("REFUSED NotAuthenticated")
    refusal = entries(city, "door.connect")[-1]
    assert (refusal.outcome, refusal.user_name) == ("denied", None)
    assert refusal.detail == "the token of a kernel not yet given to a member"

    analyst = login(city, "analyst", DEMO_PASSWORD)
    given = _child(_USE_TOKEN.format(path=path, token=token))
    pid["pid"] = given.pid  # the same kernel, now its member's
    door.kernels.bind("kept-1", "analyst", analyst.token)
    assert _in_child(given).startswith("OK analyst")
    assert entries(city, "search.partial")[-1].user_name == "analyst"
    investigator = login(city, "investigator", DEMO_PASSWORD)
    with pytest.raises(KeyError):
        door.kernels.bind("kept-1", "investigator", investigator.token)
    door.kernels.unregister("kept-1")
    with pytest.raises(NotAuthenticated, match="not known"):
        DoorClient(path, kernel_token=token)


def test_a_password_session_lives_on_its_connection(
    door: DoorService, city: Store, request: pytest.FixtureRequest
) -> None:
    client = DoorClient(door.path, user="analyst", password=DEMO_PASSWORD)
    request.addfinalizer(client.close)
    # The department's rules reach the kernel; where the door keeps its files does not.
    assert (client.name, client.role, client.policy) == ("analyst", "analyst", Policy())
    client.set_purpose(**TRAINING)
    result = client.search_partial("*1*")
    assert isinstance(result.frame, pl.DataFrame) and result.count > 0
    with city.read() as conn:
        entry = conn.execute(sa.select(s.AuditEntry).where(s.AuditEntry.id == result.audit_id)).one()
    assert (entry.operation, entry.user_name, entry.purpose) == ("search.partial", "analyst", "training")
    with pytest.raises(NotAuthenticated, match="unknown user or wrong password"):
        DoorClient(door.path, user="analyst", password="not-the-password-at-all")
    # The session ends with its connection: nothing is left open to resume.
    client.close()
    latest = sa.select(sa.func.max(s.Session.id))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with city.read() as conn:
            ended = conn.execute(
                sa.select(s.Session.ended_at).where(s.Session.id == latest.scalar_subquery())
            ).scalar()
        if ended is not None:
            break
        time.sleep(0.1)
    assert ended is not None


def test_the_client_gives_the_same_results_as_the_door_in_process(
    door: DoorService, city: Store, request: pytest.FixtureRequest
) -> None:
    inside = login(city, "analyst", DEMO_PASSWORD)
    outside = DoorClient(door.path, user="analyst", password=DEMO_PASSWORD)
    request.addfinalizer(outside.close)
    for session in (inside, outside):
        session.set_purpose(**TRAINING)
    since = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
    scene = {
        "lat": 43.9717,
        "lon": -124.1009,
        "radius_m": 2000,
        "since": since,
        "until": since + dt.timedelta(days=2),
    }
    for call in (
        lambda x: x.search_partial("*1*"),
        lambda x: x.search_partial("*1*", page=3, limit=40),
        lambda x: x.search_fuzzy("7ABC123", max_edits=2),
        lambda x: x.canvass([scene]),
        lambda x: x.alerts(),
    ):
        a, b = call(inside), call(outside)
        assert type(a) is type(b) and a.frame.equals(b.frame) and a.truncated == b.truncated
        assert (a.total, a.page, a.page_size) == (b.total, b.page, b.page_size)
        assert sorted(a.extra) == sorted(b.extra)
        for key, value in a.extra.items():
            assert value.equals(b.extra[key]) if isinstance(value, pl.DataFrame) else value == b.extra[key]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.release(dest="x", agency="Lane County DA", read_ids=[1], allow_out_of_state=True),
         "allow_out_of_state"),
        (lambda c: c.timeline("7ABC123", timezone="UTC"), "timezone"),
        (lambda c: c._call("import_reads", "/etc/passwd"), "no operation 'import_reads'"),
        (lambda c: c._call("_store"), "no operation '_store'"),
        (lambda c: c._call("purge"), "no operation 'purge'"),
    ],
)  # fmt: skip
def test_no_call_overrides_policy_or_reaches_beyond_the_table(door: DoorService, call, message: str) -> None:
    with DoorClient(door.path, user="investigator", password=DEMO_PASSWORD) as client:
        with pytest.raises(InvalidInput, match=message):
            call(client)
        assert client.search_plate("7ABC123", **TRAINING).count == 0  # the connection is still good


def test_the_client_has_exactly_the_table_of_operations() -> None:
    for name in wire.CLIENT_OPERATIONS:
        assert callable(getattr(AccessSession, name)) and callable(getattr(DoorClient, name)), name
        assert getattr(DoorClient, name).__doc__ == getattr(AccessSession, name).__doc__ or name in (
            "set_purpose",
            "release",
            "logout",
        )


@pytest.mark.parametrize(
    "value",
    [
        {"$type": "Store", "fields": {}},
        {"$type": "Path", "fields": {"args": ["/etc/passwd"]}},
        {"$frame": 3},
        {"$datetime": "2026-11-03T14:00"},
        {"$pickle": "gASV"},
        {"$dict": {"a": 1}, "$type": "Why"},
        {"$type": "Why", "fields": {"purpose": "x", "evil": 1}},
    ],
)
def test_the_codec_builds_only_the_doors_own_types(value: object) -> None:
    with pytest.raises(InvalidInput):
        wire.decode(value, [])


def test_the_codec_round_trips_results() -> None:
    frame = pl.DataFrame({"plate": ["7ABC123"], "ts": [dt.datetime(2026, 11, 3, tzinfo=dt.UTC)]})
    summary = {"n": (1, 2), "when": dt.date(2026, 1, 2)}
    result = TimelineResult(frame, 7, "timeline", True, places=frame, summary=summary)
    parts: list[bytes] = []
    back = wire.decode(wire.encode(result, parts), parts)
    assert type(back) is TimelineResult and back.frame.equals(frame) and back.places.equals(frame)
    assert (back.audit_id, back.truncated, back.summary) == (7, True, summary)
    with pytest.raises(InvalidInput):
        wire.encode(object(), [])
