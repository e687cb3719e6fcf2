"""Data access: the only package that talks to DynamoDB. See `keys.py` for the single-table schema."""
