"""akeneo-sandbox: a strict local Akeneo-compatible PIM REST API server."""

__version__ = "0.1.0"
