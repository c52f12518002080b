"""Errors raised by the library.

Every error the library raises derives from :class:`AlprError`. Messages are
plain sentences saying what went wrong and what to do; they never contain plate
text, SQL or query parameters (plates are data, not log text).

::

    AlprError
    ├── ConfigError            a setting has a value the workbench cannot use
    ├── StoreError             the database could not be reached or written
    │   ├── StoreBusy          a long write kept the database busy past the wait: try again
    │   └── NotASyntheticStore refused to replace a database holding real data
    ├── NotFound               a named user, camera, case ... does not exist
    ├── InvalidInput           a value given by a person or a file is malformed
    │   ├── InvalidPassword    a new password breaks the password policy
    │   ├── InvalidPattern     a partial-plate pattern cannot be parsed
    │   └── InvalidCaseNumber  a case number does not match the department's format
    ├── NotAvailable           the analysis behind an operation is not built yet
    ├── NotAuthenticated       no valid login (wrong password, unknown user, expired session)
    └── AccessDenied           logged in, but this member may not do this
        └── RetentionHold      the data is held for a case and may not be destroyed
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AlprError",
    "ConfigError",
    "InvalidCaseNumber",
    "InvalidInput",
    "InvalidPassword",
    "InvalidPattern",
    "NotASyntheticStore",
    "NotAuthenticated",
    "NotAvailable",
    "NotFound",
    "RetentionHold",
    "StoreBusy",
    "StoreError",
]


class AlprError(Exception):
    """Base class of every error raised by ``alpr_lib``."""


class ConfigError(AlprError):
    """A setting has a value the workbench cannot use."""


class StoreError(AlprError):
    """The database could not be reached, created or written."""


class StoreBusy(StoreError):
    """Another write (an import, a purge) held the database past the wait; the same request can be retried."""


class NotASyntheticStore(StoreError):
    """Refused to replace a database that is not marked synthetic."""


class NotFound(AlprError):
    """A named thing (user, camera, case, hotlist ...) does not exist."""


class InvalidInput(AlprError):
    """A value given by a person or read from a file is malformed."""


class InvalidPassword(InvalidInput):
    """A new password does not meet the password policy."""


class InvalidPattern(InvalidInput):
    """A partial-plate pattern cannot be parsed."""


class InvalidCaseNumber(InvalidInput):
    """A case number does not match the department's configured format."""


class NotAuthenticated(AlprError):
    """No valid login: unknown user, wrong password, locked account or expired session."""


class NotAvailable(AlprError):
    """The operation exists at the door but its analysis has not been built yet."""


class AccessDenied(AlprError):
    """The member is logged in but may not perform this operation."""


class RetentionHold(AccessDenied):
    """The data is held for a case and may not be destroyed."""
