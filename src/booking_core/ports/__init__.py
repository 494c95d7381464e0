"""Ports: the typing.Protocol interfaces services depend on; adapters implement them."""
