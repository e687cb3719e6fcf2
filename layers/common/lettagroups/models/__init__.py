"""Contract models (pydantic). Every model is declared with `defer_build=True`: a function builds the validators
of the models it uses when it first uses them, and never those of the models it merely imports (cold starts:
docs/cold-starts.md). tests/unit/test_model_config.py holds every model to it."""
