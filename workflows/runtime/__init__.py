"""Kubernetes adapter over the official client: cluster discovery, apply/get/delete, rollout, validation."""
