"""The workbench's settings: one table, each with a name, a default and help.

Every setting can be given as an environment variable ``WORKBENCH_<NAME>`` (upper
case) or in the TOML file named by ``WORKBENCH_CONFIG`` (default
``<data dir>/workbench.toml``). The environment wins over the file, the file over
the default. CLI options, validation and the administrator's guide all come from
:data:`SETTINGS`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from alpr_lib.access.purpose import Policy
from alpr_lib.errors import ConfigError

__all__ = [
    "SETTINGS",
    "Setting",
    "Settings",
    "load_settings",
    "local_time",
    "policy_from",
    "purge_schedule",
    "settings_markdown",
]


def _default_data_dir() -> str:
    return platformdirs.user_data_dir("alpr-workbench", appauthor=False)


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


def _ready_kernels(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 200:
        raise ValueError("must be from 0 to 200")
    return number


def _a_year_at_least(value: str) -> int:
    number = int(value)
    if number < 365:
        raise ValueError("must be at least 365 (CJIS keeps audit records for a year at least)")
    return number


_EVERY = re.compile(r"every\s+(\d+)\s*s")


def purge_schedule(value: str) -> dt.time | int | None:
    """The ``purge_at`` setting read: a local time of day (``03:15``), a number of seconds between purges
    (``every 30s``, for tests), or None (``off``). Raises ``ValueError`` on anything else."""
    text = str(value).strip().lower()
    if text == "off":
        return None
    every = _EVERY.fullmatch(text)
    if every:
        seconds = int(every.group(1))
        if not 1 <= seconds <= 86_400:
            raise ValueError("every N seconds takes 1 to 86400")
        return seconds
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError("give a local time such as 03:15, or off") from None


def _purge_at(value: str) -> str:
    purge_schedule(value)
    return str(value).strip()


def _boolean(value: str) -> bool:
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _roles(value: str) -> tuple[str, ...]:
    from alpr_lib.access.roles import ROLES

    named = sorted({r.strip() for r in str(value).split(",") if r.strip()})
    unknown = [r for r in named if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return tuple(named)


def _regex(value: str) -> str:
    re.compile(value)
    return value


def _timezone(value: str) -> str:
    zoneinfo.ZoneInfo(value)
    return value


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any  # a value, or a callable computing it from the settings resolved so far
    help: str
    parse: Callable[[str], Any] = str
    default_text: str | None = None  # how the docs show a computed default

    @property
    def env(self) -> str:
        return "WORKBENCH_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        lambda _s: _default_data_dir(),
        "Folder for the embedded database, images, checkpoints and exports.",
        default_text="the platform's user data folder, e.g. ~/.local/share/alpr-workbench",
    ),
    Setting(
        "db_url",
        lambda s: f"sqlite:///{Path(s['data_dir']) / 'workbench.db'}",
        "Database URL: sqlite:///PATH for the embedded database, postgresql+psycopg://... for a server. "
        "Overridden by --db.",
        default_text="sqlite:///<data_dir>/workbench.db",
    ),
    Setting(
        "key_dir",
        lambda s: str(Path(s["data_dir"]) / "keys"),
        "Folder of the department's signing keys (Ed25519; each private key 0600, the folder 0700). Only the "
        "workbench's own account reads it; kernels never see it. Back it up apart from the data.",
        default_text="<data_dir>/keys",
    ),
    Setting(
        "timezone",
        "America/Los_Angeles",
        "The department's time zone: times given without an offset are read in it, and shown in it.",
        _timezone,
    ),
    Setting(
        "retention_days",
        30,
        "Reads and their images are destroyed after this many days unless held.",
        _positive_int,
    ),
    Setting(
        "case_format",
        r"\d{2}-\d{4,6}",
        "Regular expression a case number must match in full (default: 26-01234).",
        _regex,
    ),
    Setting("training_valid_days", 365, "How long a training record stays current.", _positive_int),
    Setting("session_idle_minutes", 30, "A session ends after this many minutes without use.", _positive_int),
    Setting(
        "session_max_hours", 12, "A session ends this many hours after its login at most.", _positive_int
    ),
    Setting(
        "department_state",
        "OR",
        "The department's state (two letters): releases to agencies elsewhere need release_out_of_state.",
    ),
    Setting(
        "release_out_of_state",
        False,
        "Allow releases to agencies of other states (Oregon's 2026 ALPR law limits them): true or false.",
        _boolean,
    ),
    Setting(
        "program_title",
        "ALPR program lieutenant",
        "Title of the program's designee (807.2(e)), shown on the public transparency report beside the "
        "member named with `workbench program name designee`.",
    ),
    Setting(
        "department_name",
        "Police Department",
        "The department's name, as the audit export's Org Name column gives it.",
    ),
    Setting(
        "policy_file",
        "",
        "A text file holding the department's full ALPR policy, published whole on the transparency report "
        "(empty: the report carries the workbench's summary of the policy and says so).",
    ),
    Setting(
        "basemap",
        "",
        "The department's basemap for the maps: an MBTiles file of raster tiles, or the tile URL of a tile "
        "server on its own network (http://gis.example.local/{z}/{x}/{y}.png). The workbench server serves "
        "the tiles to the browser, so nothing is fetched from outside. Empty: the demo's basemap of the "
        "synthetic city when `workbench demo` made one, else no basemap (the maps draw roads and cameras).",
    ),
    Setting(
        "ocr_engine",
        "plate",
        "OCR engine for images and video: plate (RapidOCR with the plate detector and reader trained for "
        "this project; models inside the package, works offline), rapidocr (general OCR alone) or easyocr "
        "(optional extra; needs easyocr_model_dir).",
    ),
    Setting(
        "easyocr_model_dir",
        "",
        "Folder holding EasyOCR's models (craft_mlt_25k.pth, english_g2.pth); they are never downloaded.",
    ),
    Setting(
        "result_limit",
        10_000,
        "Most rows a data operation returns unless --limit says otherwise.",
        _positive_int,
    ),
    Setting(
        "audit_retention_days",
        365,
        "Audit entries are kept at least this long (365 or more, as CJIS asks). The workbench itself never "
        "deletes one: the database refuses it, and the purge leaves the audit log whole.",
        _a_year_at_least,
    ),
    Setting(
        "purge_at",
        "03:15",
        "Local time of day at which a running server (`workbench serve`, `workbench lab`) purges the reads "
        "past retention itself, each day; off: never (schedule `workbench purge` instead).",
        _purge_at,
    ),
    Setting(
        "mfa_roles",
        (),
        "Roles whose members must use a second factor (a TOTP authenticator), separated by commas; "
        "recommended: admin,supervisor,custodian. Until they enrol (`workbench users mfa enrol`) they can do "
        "nothing else. Empty: a second factor is each member's choice.",
        _roles,
        default_text="empty (none)",
    ),
    Setting(
        "trusted_proxies",
        "127.0.0.1,::1",
        "Addresses of the HTTPS reverse proxies in front of `workbench serve`/`lab`, separated by commas: "
        "their X-Forwarded-Proto and X-Forwarded-For headers are believed (the login cookie is then Secure, "
        "and failed logons are counted per client address). Empty: believe no proxy.",
    ),
    Setting(
        "ready_kernels",
        4,
        "Dashboard kernels `workbench serve` keeps started and warmed before members arrive (about 160 MB "
        "of memory each): a member opening a dashboard is given one at once, and it is refilled behind them. "
        "Each is given to one member only, never reused. 0: each member's kernel starts when they open a "
        "dashboard.",
        _ready_kernels,
    ),
    Setting(
        "kernel_user",
        "nobody",
        "The unprivileged account notebook and dashboard kernels run as when the server runs as root "
        "(inside their sandbox either way).",
    ),
)


class Settings(Mapping[str, Any]):
    """Resolved settings, readable as attributes or by name."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting from the environment, the config file and the defaults."""
    env = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    explicit = env.get("WORKBENCH_CONFIG")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name == "db_url" and not file_values:
            path = Path(explicit) if explicit else Path(values["data_dir"]) / "workbench.toml"
            file_values = _read_file(path, required=bool(explicit))
        raw: Any
        if setting.env in env:
            raw, source = env[setting.env], setting.env
        elif setting.name in file_values:
            raw, source = file_values[setting.name], "the config file"
        else:
            values[setting.name] = setting.default(values) if callable(setting.default) else setting.default
            continue
        try:
            values[setting.name] = setting.parse(str(raw))
        except (ValueError, re.error, zoneinfo.ZoneInfoNotFoundError) as exc:
            raise ConfigError(f"{setting.name} from {source} is not valid: {exc}") from exc
    unknown = sorted(set(file_values) - {s.name for s in SETTINGS})
    if unknown:
        raise ConfigError(f"unknown setting(s) in the config file: {', '.join(unknown)}")
    return Settings(values)


def _read_file(path: Path, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(f"the config file {path} does not exist")
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"the config file {path} cannot be read: {exc}") from exc


def settings_markdown() -> str:
    """The settings table for the administrator's guide."""
    lines = ["| setting | environment variable | default | what it does |", "|---|---|---|---|"]
    for setting in SETTINGS:
        default = setting.default_text or f"`{setting.default}`"
        lines.append(f"| `{setting.name}` | `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(lines)


def policy_from(settings: Mapping[str, Any]) -> Policy:
    """The door's :class:`~alpr_lib.access.Policy` from the workbench settings."""
    return Policy(
        case_format=settings["case_format"],
        idle_minutes=settings["session_idle_minutes"],
        max_hours=settings["session_max_hours"],
        result_limit=settings["result_limit"],
        timezone=settings["timezone"],
        department_state=str(settings["department_state"]).upper(),
        release_out_of_state=settings["release_out_of_state"],
        retention_days=settings["retention_days"],
        image_store=str(Path(settings["data_dir"]) / "images"),
        mfa_roles=settings["mfa_roles"],
        department_name=settings["department_name"],
    )


def local_time(text: str, timezone: str, *, end: bool = False) -> dt.datetime:
    """An ISO 8601 time as typed by a member: without an offset, in the department's ``timezone``.

    A plain date is the start of that day, or with ``end`` (the end of a window, which holds both its ends)
    its last millisecond: "to 2026-11-30" takes in the whole of the 30th. Raises ``ValueError`` when the
    text is not a time.
    """
    text = text.strip()
    when = dt.datetime.fromisoformat(text)
    zone = zoneinfo.ZoneInfo(timezone)
    if end and _is_plain_date(text):
        try:
            day = dt.datetime.combine(when.date() + dt.timedelta(days=1), dt.time(), zone)
        except OverflowError:  # the last day there is: its end is the end of time
            return dt.datetime.max.replace(microsecond=999000, tzinfo=zone)
        return day - dt.timedelta(milliseconds=1)
    return when if when.tzinfo else when.replace(tzinfo=zone)


def readable_time(value: Any, timezone: str | dt.tzinfo, *, seconds: bool = False) -> str:
    """A time as people write it, in the department's zone: ``Fri 6 Nov 2026 09:36`` (with ``seconds``,
    ``09:36:25``). Dates alone read ``Fri 6 Nov 2026``; ISO text is read first; anything else is shown as
    it is. Exports and ``--json`` keep ISO 8601 — this is for tables and pages people read."""
    zone = zoneinfo.ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        try:
            local = value.astimezone(zone) if value.tzinfo else value
        except (OverflowError, ValueError):
            return f"{value:%Y-%m-%d %H:%M} UTC"
        clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
        return f"{local:%a} {local.day} {local:%b %Y} {clock}"
    if isinstance(value, dt.date):
        return f"{value:%a} {value.day} {value:%b %Y}"
    return "" if value is None else str(value)


def _is_plain_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
