"""Adapters: implementations of the ports (SQLAlchemy, in-memory, Redis, ...)."""
