"""Errors raised by the library.

Every error the library raises derives from :class:`AlprError`. Messages are
plain sentences saying what went wrong and what to do; they never contain plate
text, SQL or query parameters (plates are data, not log text).

::

    AlprError
    ├── ConfigError            a setting has a value the workbench cannot use
    ├── StoreError             the database could not be reached or written
    │   ├── StoreBusy          a long write kept the database busy past the wait: try again
    │   ├── NotASyntheticStore refused to replace a database holding real data
    │   └── KeyUnavailable     the department's signing key is not where the settings say
    ├── NotFound               a named user, camera, case ... does not exist
    ├── InvalidInput           a value given by a person or a file is malformed
    │   ├── InvalidPassword    a new password breaks the password policy
    │   ├── InvalidPattern     a partial-plate pattern cannot be parsed
    │   └── InvalidCaseNumber  a case number does not match the department's format
    ├── NotAvailable           the analysis behind an operation is not built yet
    ├── NotAuthenticated       no valid login (wrong password, unknown user, expired session)
    │   └── SecondFactorNeeded the password was right; the authenticator's code is asked for
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
    "KeyUnavailable",
    "NotASyntheticStore",
    "NotAuthenticated",
    "NotAvailable",
    "NotFound",
    "RetentionHold",
    "SecondFactorNeeded",
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


class KeyUnavailable(StoreError):
    """The department's signing key, which every audit entry needs, cannot be found or read."""


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


class SecondFactorNeeded(NotAuthenticated):
    """The password was right and the account has enrolled an authenticator: its code is asked for.

    ``proof`` (set by the door's login) lets the same process finish the logon with the code alone, once,
    within a few minutes: a web form asks for the code on a second page without asking for the password
    again."""

    proof: str | None = None


class NotAvailable(AlprError):
    """The operation exists at the door but its analysis has not been built yet."""


class AccessDenied(AlprError):
    """The member is logged in but may not perform this operation."""


class RetentionHold(AccessDenied):
    """The data is held for a case and may not be destroyed."""
