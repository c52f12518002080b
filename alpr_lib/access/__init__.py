"""The audited door: logging in, who may do what, and the audit log."""

from .admin import DEMO_USERS, build_demo, database_info, init_database
from .logon import login, resume
from .purpose import PURPOSES, Policy, Why
from .session import AccessSession, Result

__all__ = [
    "DEMO_USERS",
    "PURPOSES",
    "AccessSession",
    "Policy",
    "Result",
    "Why",
    "build_demo",
    "database_info",
    "init_database",
    "login",
    "resume",
]
