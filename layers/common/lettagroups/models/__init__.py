"""Contract models (pydantic): request bodies, response shapes, stored records."""
