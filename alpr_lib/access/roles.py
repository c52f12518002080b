"""Who may do what: the permission table.

Roles follow the department's ALPR program: the administrator (the program
lieutenant and designees), analysts, investigators, supervisors (who review the
audit log and keep records) and trainers (who record training).
"""

from __future__ import annotations

from ..store.schema import ROLES

__all__ = ["DATA_OPERATIONS", "PERMISSIONS", "PURPOSE_LIMITS", "ROLES", "is_data_operation", "may"]

_ALL = frozenset(ROLES)

_DATA_ROLES = frozenset({"admin", "analyst", "investigator", "trainer"})

#: Operations that reach ALPR data: they need a purpose and current training too.
#: Supervisors, who review the audit log, do not search it themselves (separation of duties).
DATA_OPERATIONS: dict[str, frozenset[str]] = {
    "search.plate": _DATA_ROLES,
    "search.partial": _DATA_ROLES,
    "search.fuzzy": _DATA_ROLES,
    "search.vehicle": _DATA_ROLES,
    "canvass": _DATA_ROLES,
    "common": _DATA_ROLES,
    "timeline": _DATA_ROLES,
    "convoy": _DATA_ROLES,
    "clones": _DATA_ROLES,
    "alerts.list": _DATA_ROLES | {"supervisor"},
    "alerts.verify": frozenset({"admin", "analyst", "investigator"}),
    "crop": _DATA_ROLES | {"supervisor"},
    "export": frozenset({"admin", "investigator"}),
    "export.reads": _DATA_ROLES,
}

#: Roles that reach data only under some purposes: trainers teach on the synthetic city.
PURPOSE_LIMITS: dict[str, frozenset[str]] = {"trainer": frozenset({"training"})}

#: operation -> roles allowed to perform it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "users.add": frozenset({"admin"}),
    "users.list": frozenset({"admin", "supervisor", "trainer", "custodian"}),
    "users.disable": frozenset({"admin"}),
    "users.unlock": frozenset({"admin"}),
    "users.enable": frozenset({"admin"}),
    "users.role": frozenset({"admin"}),
    "users.profile": frozenset({"admin"}),
    "users.reset": frozenset({"admin"}),
    "users.password": _ALL,
    "users.mfa.enrol": _ALL,
    "users.mfa.reset": frozenset({"admin"}),
    "users.train": frozenset({"admin", "trainer", "supervisor"}),
    "training.complete": _ALL,
    "import-reads": frozenset({"admin"}),
    "import-reads.start": frozenset({"admin"}),
    "ingest": frozenset({"admin"}),
    "purge": frozenset({"custodian", "admin"}),
    "transparency": frozenset({"admin", "supervisor", "custodian"}),
    "agency.add": frozenset({"admin"}),
    "agency.list": frozenset({"admin", "supervisor", "investigator"}),
    "purge.start": frozenset({"custodian", "admin"}),
    "hold.add": frozenset({"admin", "supervisor", "investigator", "analyst"}),
    "hold.approve": frozenset({"admin", "supervisor"}),
    "hold.release": frozenset({"admin", "supervisor", "custodian"}),
    "hold.list": frozenset({"admin", "supervisor", "investigator", "analyst", "custodian"}),
    "records.destruction": frozenset({"custodian", "admin", "supervisor"}),
    "records.copies": frozenset({"custodian", "admin", "supervisor"}),
    "records.confirm": frozenset({"custodian"}),
    "program.name": frozenset({"admin"}),
    "program.list": _ALL,
    "ingest.start": frozenset({"admin"}),
    "backup": frozenset({"admin"}),
    "hotlist.import": frozenset({"admin"}),
    "hotlist.list": frozenset({"admin", "supervisor", "analyst", "investigator", "trainer"}),
    "audit.verify": frozenset({"supervisor", "admin", "custodian"}),
    "audit.report": frozenset({"supervisor", "admin"}),
    "audit.export": frozenset({"supervisor", "admin", "custodian"}),
    "release.verify": frozenset({"admin", "supervisor", "investigator", "custodian"}),
    "keys.show": frozenset({"supervisor", "admin", "custodian"}),
    "keys.create": frozenset({"admin"}),
    "keys.rotate": frozenset({"admin"}),
    "notebooks.review": frozenset({"supervisor", "admin"}),
    "cases.open": frozenset({"supervisor", "admin"}),
    "cases.assign": frozenset({"supervisor", "admin"}),
    "cases.close": frozenset({"supervisor", "admin"}),
    "cases.override": frozenset({"supervisor", "admin"}),
    "cases.list": _ALL,
    "home": _ALL,
    "cases.list.all": frozenset({"supervisor", "admin"}),
    **DATA_OPERATIONS,
    "info": _ALL,
    "map.layers": _ALL,
}


#: Operations outside the searches that still reveal ALPR data — whether the workbench holds a plate's reads,
#: which plates and cases are kept: they need current training too (Policy 807: nobody reaches the data
#: without it), though no purpose (their case is their own argument).
REVEALS_DATA: frozenset[str] = frozenset({"hold.add", "hold.list", "hold.approve", "hold.release"})


def may(role: str, operation: str) -> bool:
    """True when ``role`` may perform ``operation`` (unknown operations are refused)."""
    return role in PERMISSIONS.get(operation, frozenset())


def is_data_operation(operation: str) -> bool:
    """True when ``operation`` reaches ALPR data (purpose, case and training are checked)."""
    return operation in DATA_OPERATIONS
