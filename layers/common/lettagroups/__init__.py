"""Shared code of the Letta-compatible groups service: models, logic, data access."""
