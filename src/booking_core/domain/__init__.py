"""The domain: entities, value objects and pure rules. No I/O, no adapters."""
