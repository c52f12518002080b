"""ALPR Workbench library."""
