"""Typed readers for environment variables that fail loudly on malformed values."""

import builtins
import ipaddress
import os
import re
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads settings from a mapping (os.environ by default) with validation."""

    def __init__(self, source: Mapping[str, builtins.str] | None = None) -> None:
        self.source = os.environ if source is None else source

    def raw(self, name: builtins.str) -> builtins.str | None:
        value = self.source.get(name)
        return None if value is None else value.strip()

    def str(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        value = self.raw(name)
        return default if value is None or value == "" else value

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}")
        return number

    def float(
        self, name: builtins.str, default: builtins.float, *, minimum: builtins.float | None = None
    ) -> builtins.float:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
        return number

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        value = self.raw(name)
        if value is None or value == "":
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def rate(self, name: "builtins.str", default: "builtins.str") -> "builtins.str | None":
        """A DRF throttle rate such as `1000/min`; `off` disables the limit (None)."""
        value = self.str(name, default).lower()
        if value in {"off", "none", "0"}:
            return None
        if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
            raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 100/min (or off)")
        return value

    def networks(
        self, name: "builtins.str", default: "builtins.str" = ""
    ) -> "builtins.list[ipaddress.IPv4Network | ipaddress.IPv6Network]":
        """A comma-separated list of CIDRs (a bare address is a /32 or /128); `none` is the empty list."""
        items = self.list(name, default.split(",") if default else [])
        if [item.lower() for item in items] == ["none"]:
            return []
        try:
            return [ipaddress.ip_network(item, strict=False) for item in items]
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {exc}") from None

    def choice(
        self, name: builtins.str, default: builtins.str, choices: builtins.set[builtins.str]
    ) -> builtins.str:
        value = self.str(name, default).lower()
        if value not in choices:
            allowed = ", ".join(sorted(choices))
            raise ImproperlyConfigured(f"{name}={value!r} is not one of: {allowed}")
        return value
