"""Singer tap streaming ERP XML product exports into typed records."""

__version__ = "0.1.0"
