"""Who may do what: the permission table.

Roles follow the department's ALPR program: the administrator (the program
lieutenant and designees), analysts, investigators, supervisors (who review the
audit log and keep records) and trainers (who record training).
"""

from __future__ import annotations

from ..store.schema import ROLES

__all__ = ["PERMISSIONS", "ROLES", "may"]

_ALL = frozenset(ROLES)

#: operation -> roles allowed to perform it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "users.add": frozenset({"admin"}),
    "users.list": frozenset({"admin", "supervisor", "trainer"}),
    "users.disable": frozenset({"admin"}),
    "users.unlock": frozenset({"admin"}),
    "users.train": frozenset({"admin", "trainer"}),
    "import-reads": frozenset({"admin"}),
    "import-reads.start": frozenset({"admin"}),
    "backup": frozenset({"admin"}),
    "audit.verify": frozenset({"supervisor", "admin"}),
    "info": _ALL,
}


def may(role: str, operation: str) -> bool:
    """True when ``role`` may perform ``operation`` (unknown operations are refused)."""
    return role in PERMISSIONS.get(operation, frozenset())
