"""Why a member reaches the data: purpose, case number and reason, and the department's policy.

The department's ALPR policy allows data use only for a legitimate purpose tied to a
specific investigation or department action. Every data operation therefore carries a
:class:`Why`: one purpose from :data:`PURPOSES`, a case number where the purpose needs
one (in the department's format), and a free-text reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidCaseNumber, InvalidInput

__all__ = [
    "DEFAULT_CASE_FORMAT",
    "PURPOSES",
    "Policy",
    "PurposeKind",
    "Why",
    "check_case_number",
    "check_why",
]

DEFAULT_CASE_FORMAT = r"\d{2}-\d{4,6}"


@dataclass(frozen=True)
class PurposeKind:
    """One permitted purpose: its words in reports, and whether it needs a case number."""

    label: str
    needs_case: bool = False
    synthetic_only: bool = False


#: The permitted purposes, by the name the CLI and the dashboards use.
PURPOSES: dict[str, PurposeKind] = {
    "investigation": PurposeKind("criminal investigation", needs_case=True),
    "missing-person": PurposeKind("missing or endangered person", needs_case=True),
    "hit-verification": PurposeKind("hotlist hit verification"),  # names its alert (see cases.check_case)
    "administrative": PurposeKind("department civil or administrative action", needs_case=True),
    "training": PurposeKind("training on synthetic data", synthetic_only=True),
}


@dataclass(frozen=True)
class Policy:
    """The department's rules that the door enforces; the workbench builds it from its settings.

    They are the door's, never a call's: no operation takes a time zone, a state or a release rule as an
    argument, so no notebook cell can pass an override.
    """

    case_format: str = DEFAULT_CASE_FORMAT
    idle_minutes: int = 30
    max_hours: int = 12
    result_limit: int = 10_000
    timezone: str = "America/Los_Angeles"
    department_state: str = "OR"
    release_out_of_state: bool = False
    retention_days: int = 30
    #: The folder of reads' images and crops (:mod:`alpr_lib.media`); None: no image is ever opened.
    image_store: str | None = None
    #: Roles whose members must use a second factor: until they enrol one, they may only enrol (and change
    #: their password).
    mfa_roles: tuple[str, ...] = ()
    #: The issuer an authenticator app shows beside the member's name.
    department_name: str = "ALPR Workbench"

    def __post_init__(self) -> None:
        try:
            re.compile(self.case_format)
        except re.error as exc:
            raise InvalidInput("the case_format setting is not a valid regular expression") from exc


@dataclass(frozen=True)
class Why:
    """The stated purpose of a data operation."""

    purpose: str | None
    case: str | None = None
    reason: str | None = None
    #: The supervisor's override an investigation search relied on (set by the gate, never by a caller).
    override: int | None = field(default=None, repr=False)

    def as_audit(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "case_number": self.case, "reason": self.reason}


_NEEDS = {
    "investigation": "the investigation purpose needs a case number, e.g. 26-01234",
    "administrative": "the administrative purpose needs a case number, e.g. 26-01234",
    "missing-person": "the missing-person purpose needs a case number: the missing-person report's",
    "hit-verification": "the hit-verification purpose needs a case number: the id of the alert it verifies",
}


def check_case_number(number: str, policy: Policy) -> str:
    """A case number trimmed, or raise when it does not match the department's format."""
    case = (number or "").strip()
    if (
        not case
        or len(case) > 64
        or not case.isascii()
        or not re.fullmatch(policy.case_format, case, re.ASCII)
    ):
        raise InvalidCaseNumber("the case number does not match the department's format (e.g. 26-01234)")
    return case


def check_why(why: Why | None, policy: Policy, *, synthetic: bool) -> Why:
    """Return ``why`` cleaned (whitespace trimmed), or raise saying what is missing or malformed."""
    if why is None or not why.purpose:
        raise InvalidInput(
            "say why you are searching: a purpose (" + ", ".join(PURPOSES) + "), a case number and a reason"
        )
    kind = PURPOSES.get(why.purpose)
    if kind is None:
        raise InvalidInput("unknown purpose; the purposes are " + ", ".join(PURPOSES))
    if kind.synthetic_only and not synthetic:
        raise InvalidInput("the training purpose is only accepted on a synthetic (demo) database")
    case = (why.case or "").strip() or None
    if case is None and kind.needs_case:
        raise InvalidCaseNumber(_NEEDS[why.purpose])
    if why.purpose == "hit-verification":
        if case is not None and not (case.isascii() and case.isdigit() and len(case) <= 18):
            raise InvalidCaseNumber(
                "a hit verification names the alert it verifies by its id: --case ALERT_ID"
            )
    elif case is not None:
        case = check_case_number(case, policy)
    reason = " ".join((why.reason or "").split())
    if len(reason) < 4:
        raise InvalidInput("give a reason in a few words (4 characters at least)")
    if len(reason) > 500:
        raise InvalidInput("keep the reason under 500 characters")
    return Why(why.purpose, case, reason)
