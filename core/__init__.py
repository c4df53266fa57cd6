"""What every layer shares: readers and storage, document schema, packaged models and embeddings, LM scoring,
statistics, config field types. Depends on nothing else in winnow (tests/test_floor_plan.py checks it)."""
