"""Which clusters the dashboard watches: built once from the environment, looked up by name."""

from __future__ import annotations

import os
from functools import cache

from kafka_admin.config import ClusterConfig, from_env


class UnknownCluster(LookupError):
    """A cluster name that is not configured; views turn it into a 404."""


@cache
def configured_clusters() -> dict[str, ClusterConfig]:
    """Clusters by name, in configuration order. Today: the default cluster from KAFKA_* vars."""
    default = from_env(os.environ)
    return {default.name: default}


def cluster_names() -> list[str]:
    return list(configured_clusters())


def default_cluster() -> ClusterConfig:
    return next(iter(configured_clusters().values()))


def get_cluster(name: str | None = None) -> ClusterConfig:
    if name is None:
        return default_cluster()
    try:
        return configured_clusters()[name]
    except KeyError:
        raise UnknownCluster(name) from None
