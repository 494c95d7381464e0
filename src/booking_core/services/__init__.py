"""Application services: the public use cases, built on the ports."""
