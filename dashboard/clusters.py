"""Which clusters the dashboard watches: built once from the environment, looked up by name.

The sources, first present wins (kafka_admin.config.clusters_from_environment, docs/clusters.md):
KAFKA_CLUSTERS_FILE, then KAFKA_CLUSTERS=a,b with KAFKA_A_* variables, then the single default
cluster from KAFKA_BOOTSTRAP_SERVERS & friends. A configuration that cannot work stops the start
(a Django system check, and ImproperlyConfigured on first use) with a message that names the
setting and never quotes a password.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from kafka_admin.config import ClusterConfig, ConfigError, clusters_from_environment
from kafka_admin.schemas.decoder import SchemaDecoder, decoder_for

log = logging.getLogger(__name__)


class UnknownCluster(LookupError):
    """A cluster name that is not configured; views turn it into a 404."""


@cache
def configured_clusters() -> dict[str, ClusterConfig]:
    """Clusters by name, in configuration order; ImproperlyConfigured when the configuration is wrong."""
    env = os.environ
    try:
        configs = clusters_from_environment(env)
    except ConfigError as exc:
        raise ImproperlyConfigured(f"Kafka clusters: {exc}") from None
    if env.get("KAFKA_CLUSTERS_FILE", "").strip() and env.get("KAFKA_CLUSTERS", "").strip():
        log.warning("KAFKA_CLUSTERS is ignored: KAFKA_CLUSTERS_FILE is set and takes precedence")
    return {config.name: config for config in configs}


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


def schema_decoder(name: str) -> SchemaDecoder | None:
    """The cluster's schema decoder (one per registry per process), or None without a registry."""
    registry = get_cluster(name).schema_registry
    return decoder_for(registry) if registry is not None else None


@checks.register("kafka")
def check_clusters(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`manage.py check` and every server start: the cluster configuration must load."""
    try:
        configured_clusters()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="See docs/clusters.md.", id="dashboard.E001")]
    return []


def scrub(cluster: str, text: str) -> str:
    """Replace the cluster's SASL password in a message (from librdkafka, a broker, anywhere) by ***."""
    config = configured_clusters().get(cluster)
    password = config.sasl_password if config is not None else None
    return text.replace(password, "***") if password else text
