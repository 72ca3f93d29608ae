"""Kubernetes object names derived from workload and resource names (DNS-1035 labels, length-capped)."""

from __future__ import annotations

import hashlib
import re

_INVALID = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")
MAX_LABEL = 63


def k8s_name(*parts: str, max_length: int = MAX_LABEL) -> str:
    """A DNS-1035 label from `parts` joined by '-': lower-case, starting with a letter, at most `max_length`.

    A name that had to be shortened ends in a short hash of the full name, so distinct inputs stay distinct.
    """
    raw = "-".join(part for part in parts if part)
    name = _DASHES.sub("-", _INVALID.sub("-", raw.lower())).strip("-") or "x"
    if not name[0].isalpha():
        name = f"x-{name}"
    if len(name) <= max_length and name == raw:
        return name
    if len(name) > max_length:
        digest = hashlib.sha256(raw.encode()).hexdigest()[:6]
        name = f"{name[: max_length - 7].rstrip('-')}-{digest}"
    return name


def secret_key(*parts: str) -> str:
    """A key for a Secret or ConfigMap entry (letters, digits, '-', '_', '.'), unique per input."""
    raw = ".".join(parts)
    key = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip(".") or "key"
    if key != raw or len(key) > 200:
        key = f"{key[:180]}-{hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    return key
