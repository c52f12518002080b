"""The audited door: logging in, who may do what, and the audit log."""

from .admin import DEMO_USERS, build_demo, database_info, init_database
from .session import AccessSession, login

__all__ = ["DEMO_USERS", "AccessSession", "build_demo", "database_info", "init_database", "login"]
