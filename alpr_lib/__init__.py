"""ALPR Workbench library: recognition, matching, analytics, retention and audited access.

Everything a notebook, dashboard or script needs is listed in ``__all__``; data is
reached only through :class:`AccessSession`, obtained with :func:`login`.
"""

from .access import AccessSession, build_demo, database_info, init_database, login
from .errors import (
    AccessDenied,
    AlprError,
    ConfigError,
    InvalidCaseNumber,
    InvalidInput,
    InvalidPassword,
    InvalidPattern,
    KeyUnavailable,
    NotASyntheticStore,
    NotAuthenticated,
    NotFound,
    RetentionHold,
    SecondFactorNeeded,
    StoreBusy,
    StoreError,
)
from .plates import equivalence_key, guess_states, is_valid_plate, normalize
from .synth import CityConfig, SyntheticCity, generate

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AccessSession",
    "AlprError",
    "CityConfig",
    "ConfigError",
    "InvalidCaseNumber",
    "InvalidInput",
    "InvalidPassword",
    "InvalidPattern",
    "KeyUnavailable",
    "NotASyntheticStore",
    "NotAuthenticated",
    "NotFound",
    "RetentionHold",
    "SecondFactorNeeded",
    "StoreBusy",
    "StoreError",
    "SyntheticCity",
    "build_demo",
    "database_info",
    "equivalence_key",
    "generate",
    "guess_states",
    "init_database",
    "is_valid_plate",
    "login",
    "normalize",
]
