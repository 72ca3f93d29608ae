"""Prometheus metrics: definitions, signal receivers, HTTP middleware, collectors and exposition."""
