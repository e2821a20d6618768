"""Trunk models: the registry of known ids, fetching the embedded default, loading, tiny test configs."""
