"""ALPR Workbench: the application around alpr_lib (CLI, configuration, login, UI)."""
