"""Providers: provider.yaml loading, capability routing, and the built-in provider catalogue."""
