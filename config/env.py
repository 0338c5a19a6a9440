"""Typed reads of environment variables with safe defaults; a bad value fails loudly at start-up."""

from __future__ import annotations

import ipaddress
import os
import re

from django.core.exceptions import ImproperlyConfigured


def env_str(key: str, default: str = "") -> str:
    return os.environ.get(key, default)


def env_bool(key: str, default: bool = False) -> bool:
    raw = os.environ.get(key)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{key} must be true or false, got {raw!r}")


def env_float(key: str, default: float) -> float:
    raw = os.environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{key} must be a number, got {raw!r}") from None


def env_list(key: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(key, default).split(",") if item.strip()]


_HOST_NAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?")


def env_networks(key: str) -> tuple[str, ...]:
    """A comma-separated list of networks (10.0.0.0/8, ::1) and host names (hooks.internal)."""
    out = []
    for entry in env_list(key):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            name = entry.lower()
            if "/" in entry or name.replace(".", "").isdigit() or not _HOST_NAME.fullmatch(name):
                raise ImproperlyConfigured(
                    f"{key}: {entry!r} is neither a network (CIDR), an address nor a host name"
                ) from None
        out.append(entry)
    return tuple(out)
