"""A fake Kubernetes API server over real HTTP, for tests of the official client (no kube-apiserver here)."""

from .fake import FakeKube, write_kubeconfig

__all__ = ["FakeKube", "write_kubeconfig"]
