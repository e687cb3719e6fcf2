"""Server-sent events for group runs: frame formats and the tail of a run's event log."""
