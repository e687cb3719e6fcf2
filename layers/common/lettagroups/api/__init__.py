"""HTTP glue shared by the handlers: resolver factory, error mapping, identity, JSON responses."""
