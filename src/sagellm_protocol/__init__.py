"""sageLLM Protocol v0.1 as plain typed dicts."""
