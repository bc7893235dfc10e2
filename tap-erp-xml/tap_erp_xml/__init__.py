"""Singer tap streaming ERP XML product exports into typed records."""
