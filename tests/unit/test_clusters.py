"""Which clusters are configured: the three sources, their precedence, validation, secrets."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from dashboard import clusters
from kafka_admin.config import (
    ClusterConfig,
    ConfigError,
    clusters_from_env_list,
    clusters_from_environment,
    clusters_from_file,
    env_prefix,
)

SECRET = "pw-Zq7!never-shown"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    """A process environment without any KAFKA_* variable, and a fresh cluster cache around the test."""
    for key in list(os.environ):
        if key.startswith("KAFKA_"):
            monkeypatch.delenv(key)
    clusters.configured_clusters.cache_clear()
    yield monkeypatch
    clusters.configured_clusters.cache_clear()


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


TWO_CLUSTERS = [
    {"name": "prod", "bootstrap_servers": "p1:9092,p2:9092"},
    {
        "name": "staging",
        "bootstrap_servers": ["s1:9093", "s2:9093"],
        "security_protocol": "sasl_ssl",
        "sasl_mechanism": "scram-sha-512",
        "sasl_username": "dash",
        "sasl_password_env": "STAGING_KAFKA_PASSWORD",
        "ssl_ca_location": "/etc/ssl/ca.pem",
        "request_timeout": 3,
        "offsets_source": "offsets-topic",
    },
]


class TestDefaultCluster:
    def test_no_configuration_is_one_local_cluster(self, env):
        assert clusters.cluster_names() == ["local"]
        assert clusters.default_cluster().bootstrap_servers == "127.0.0.1:9092"

    def test_single_cluster_from_kafka_variables(self, env):
        env.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:9092")
        env.setenv("KAFKA_CLUSTER_NAME", "main")
        assert clusters.get_cluster("main").bootstrap_servers == "k:9092"
        assert clusters.get_cluster().name == "main"

    def test_unknown_name_is_unknown_cluster(self, env):
        with pytest.raises(clusters.UnknownCluster):
            clusters.get_cluster("nope")

    def test_default_cluster_name_must_be_url_safe(self, env):
        env.setenv("KAFKA_CLUSTER_NAME", "my cluster")
        with pytest.raises(ImproperlyConfigured, match=r"KAFKA_CLUSTER_NAME.*'my cluster'.*URLs"):
            clusters.configured_clusters()


class TestEnvList:
    def test_two_clusters_in_order(self, env):
        env.setenv("KAFKA_CLUSTERS", "prod, eu-west.staging")
        env.setenv("KAFKA_PROD_BOOTSTRAP_SERVERS", "p:9092")
        env.setenv("KAFKA_EU_WEST_STAGING_BOOTSTRAP_SERVERS", "s:9092")
        env.setenv("KAFKA_EU_WEST_STAGING_SECURITY_PROTOCOL", "sasl_plaintext")
        env.setenv("KAFKA_EU_WEST_STAGING_SASL_MECHANISM", "PLAIN")
        env.setenv("KAFKA_EU_WEST_STAGING_SASL_USERNAME", "dash")
        env.setenv("KAFKA_EU_WEST_STAGING_SASL_PASSWORD", SECRET)
        env.setenv("KAFKA_EU_WEST_STAGING_REQUEST_TIMEOUT", "4")
        assert clusters.cluster_names() == ["prod", "eu-west.staging"]
        assert clusters.default_cluster().name == "prod"
        staging = clusters.get_cluster("eu-west.staging")
        assert staging.bootstrap_servers == "s:9092"
        assert staging.security_protocol == "SASL_PLAINTEXT"
        assert staging.client_config()["sasl.password"] == SECRET
        assert staging.request_timeout_s == 4.0
        assert clusters.get_cluster("prod").security_protocol == "PLAINTEXT"

    def test_prefix(self):
        assert env_prefix("prod") == "KAFKA_PROD_"
        assert env_prefix("eu-west.2") == "KAFKA_EU_WEST_2_"

    def test_default_variables_are_not_used_for_listed_clusters(self, env):
        env.setenv("KAFKA_BOOTSTRAP_SERVERS", "default:9092")
        env.setenv("KAFKA_CLUSTERS", "a")
        env.setenv("KAFKA_A_BOOTSTRAP_SERVERS", "a:9092")
        assert {n: c.bootstrap_servers for n, c in clusters.configured_clusters().items()} == {"a": "a:9092"}

    @pytest.mark.parametrize(
        "extra, message",
        [
            (
                {"KAFKA_CLUSTERS": "a,b", "KAFKA_A_BOOTSTRAP_SERVERS": "a:1"},
                "cluster 'b' needs KAFKA_B_BOOTSTRAP_SERVERS",
            ),
            ({"KAFKA_CLUSTERS": "a,a", "KAFKA_A_BOOTSTRAP_SERVERS": "a:1"}, "'a' is configured twice"),
            ({"KAFKA_CLUSTERS": "a b"}, "'a b' may only contain"),
            ({"KAFKA_CLUSTERS": "a/b"}, "'a/b' may only contain"),
            (
                {"KAFKA_CLUSTERS": "a-b,a.b", "KAFKA_A_B_BOOTSTRAP_SERVERS": "x:1"},
                "'a-b' and 'a.b' would share the KAFKA_A_B_",
            ),
            (
                {"KAFKA_CLUSTERS": "a", "KAFKA_A_BOOTSTRAP_SERVERS": "a:1", "KAFKA_A_SECURITY_PROTOCOL": "TLS"},
                r"cluster 'a' \(KAFKA_A_\*\): security protocol 'TLS'",
            ),
            (
                {"KAFKA_CLUSTERS": "a", "KAFKA_A_BOOTSTRAP_SERVERS": "a:1", "KAFKA_A_REQUEST_TIMEOUT": "soon"},
                "KAFKA_A_REQUEST_TIMEOUT must be a number",
            ),
        ],
    )
    def test_errors_name_the_cluster_and_setting(self, extra, message):
        with pytest.raises(ConfigError, match=message):
            clusters_from_env_list(extra)

    def test_bad_configuration_is_improperly_configured(self, env):
        env.setenv("KAFKA_CLUSTERS", "a")
        with pytest.raises(ImproperlyConfigured, match="Kafka clusters: KAFKA_CLUSTERS: cluster 'a' needs"):
            clusters.cluster_names()

    def test_system_check_reports_it(self, env):
        env.setenv("KAFKA_CLUSTERS", "bad name")
        [error] = clusters.check_clusters()
        assert error.id == "dashboard.E001"
        assert "'bad name'" in error.msg
        env.setenv("KAFKA_CLUSTERS", "ok")
        env.setenv("KAFKA_OK_BOOTSTRAP_SERVERS", "ok:9092")
        clusters.configured_clusters.cache_clear()
        assert clusters.check_clusters() == []


class TestFile:
    def test_json_list(self, env, tmp_path):
        env.setenv("KAFKA_CLUSTERS_FILE", str(write_json(tmp_path / "clusters.json", TWO_CLUSTERS)))
        env.setenv("STAGING_KAFKA_PASSWORD", SECRET)
        assert clusters.cluster_names() == ["prod", "staging"]
        staging = clusters.get_cluster("staging")
        assert staging.bootstrap_servers == "s1:9093,s2:9093"
        assert staging.security_protocol == "SASL_SSL"
        assert staging.sasl_mechanism == "SCRAM-SHA-512"
        assert staging.sasl_password == SECRET
        assert staging.ssl_ca_location == "/etc/ssl/ca.pem"
        assert staging.request_timeout_s == 3.0
        assert staging.offsets_source == "offsets-topic"
        conf = staging.client_config()
        assert conf["sasl.username"] == "dash"
        assert conf["ssl.ca.location"] == "/etc/ssl/ca.pem"

    def test_object_with_clusters_key_and_inline_password(self, tmp_path):
        entry = {**TWO_CLUSTERS[1], "sasl_password": SECRET}
        del entry["sasl_password_env"]
        [config] = clusters_from_file(write_json(tmp_path / "c.json", {"clusters": [entry]}), env={})
        assert config.sasl_password == SECRET

    def test_toml(self, tmp_path):
        path = tmp_path / "clusters.toml"
        path.write_text(
            '[[clusters]]\nname = "a"\nbootstrap_servers = "a:9092"\n\n'
            '[[clusters]]\nname = "b"\nbootstrap_servers = ["b1:9092", "b2:9092"]\n'
            'security_protocol = "SASL_PLAINTEXT"\nsasl_mechanism = "PLAIN"\n'
            'sasl_username = "u"\nsasl_password_env = "B_PW"\n'
        )
        a, b = clusters_from_file(path, env={"B_PW": SECRET})
        assert (a.name, b.name, b.bootstrap_servers, b.sasl_password) == ("a", "b", "b1:9092,b2:9092", SECRET)

    def test_file_wins_over_env_list_and_default(self, env, tmp_path, caplog):
        env.setenv("KAFKA_CLUSTERS_FILE", str(write_json(tmp_path / "c.json", TWO_CLUSTERS[:1])))
        env.setenv("KAFKA_CLUSTERS", "other")
        env.setenv("KAFKA_OTHER_BOOTSTRAP_SERVERS", "o:9092")
        env.setenv("KAFKA_BOOTSTRAP_SERVERS", "d:9092")
        with caplog.at_level(logging.WARNING, logger="dashboard.clusters"):
            assert clusters.cluster_names() == ["prod"]
        assert "KAFKA_CLUSTERS is ignored" in caplog.text

    def test_env_list_wins_over_default(self):
        configs = clusters_from_environment(
            {"KAFKA_CLUSTERS": "x", "KAFKA_X_BOOTSTRAP_SERVERS": "x:1", "KAFKA_BOOTSTRAP_SERVERS": "d:1"}
        )
        assert [(c.name, c.bootstrap_servers) for c in configs] == [("x", "x:1")]

    def test_missing_file(self, env, tmp_path):
        env.setenv("KAFKA_CLUSTERS_FILE", str(tmp_path / "absent.json"))
        with pytest.raises(ImproperlyConfigured, match=r"clusters file .*absent\.json: not found"):
            clusters.configured_clusters()

    def test_unreadable_file(self, tmp_path):
        with pytest.raises(ConfigError, match="cannot be read"):
            clusters_from_file(tmp_path, env={})  # a directory

    def test_bad_json_names_path_and_reason_not_contents(self, tmp_path):
        path = tmp_path / "c.json"
        path.write_text('[{"name": "a", "bootstrap_servers": "a:1", "sasl_password": "' + SECRET + '",}]')
        with pytest.raises(ConfigError) as info:
            clusters_from_file(path, env={})
        message = str(info.value)
        assert str(path) in message
        assert "not valid JSON" in message
        assert "line 1" in message
        assert SECRET not in message

    def test_bad_toml_names_path_not_contents(self, tmp_path):
        path = tmp_path / "c.toml"
        path.write_text(f'[[clusters]]\nname = "a"\nsasl_password = "{SECRET}\n')
        with pytest.raises(ConfigError, match="not valid TOML") as info:
            clusters_from_file(path, env={})
        assert SECRET not in str(info.value)

    @pytest.mark.parametrize(
        "data, message",
        [
            ({"name": "a"}, "expected a list of clusters"),
            ([], "no clusters configured"),
            (["a:9092"], "entry 1: each cluster must be an object"),
            ([{"bootstrap_servers": "a:1"}], "entry 1: every cluster needs a name"),
            ([{"name": "a b", "bootstrap_servers": "a:1"}], "'a b' may only contain"),
            ([{"name": "a"}], r"entry 1 \(a\): bootstrap_servers is required"),
            ([{"name": "a", "bootstrap_servers": "a:1"}, {"name": "a", "bootstrap_servers": "b:1"}], "'a' is config"),
            ([{"name": "a", "bootstrap_servers": "a:1", "passwd": "x"}], r"unknown setting\(s\) passwd"),
            ([{"name": "a", "bootstrap_servers": "a:1", "request_timeout": "soon"}], "request_timeout must be a num"),
            ([{"name": "a", "bootstrap_servers": "a:1", "request_timeout": True}], "request_timeout must be a num"),
            ([{"name": "a", "bootstrap_servers": "a:1", "sasl_username": 7}], "sasl_username must be a string"),
            ([{"name": "a", "bootstrap_servers": "a:1", "security_protocol": "TLS"}], r"\(a\): security protocol"),
            (
                [{"name": "a", "bootstrap_servers": "a:1", "security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN"}],
                r"entry 1 \(a\): SASL needs a username and a password",
            ),
            (
                [{"name": "a", "bootstrap_servers": "a:1", "sasl_password": "x", "sasl_password_env": "X"}],
                "not both",
            ),
            ([{"name": "a", "bootstrap_servers": "a:1", "sasl_password_env": "NOT_SET_ANYWHERE"}], "NOT_SET_ANYWHERE"),
        ],
    )
    def test_validation(self, tmp_path, data, message):
        path = write_json(tmp_path / "c.json", data)
        with pytest.raises(ConfigError, match=message) as info:
            clusters_from_file(path, env={})
        assert str(path) in str(info.value)


class TestSecrets:
    """The password is never in a repr, a description or an error message built from the configuration."""

    def sasl(self) -> ClusterConfig:
        return ClusterConfig(
            name="s",
            bootstrap_servers="s:9092",
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN",
            sasl_username="dash",
            sasl_password=SECRET,
        )

    def test_every_formatting_of_a_config(self):
        config = self.sasl()
        for text in (repr(config), str(config), f"{config}", f"{config!r}", str(config.describe())):
            assert SECRET not in text
        assert config.client_config()["sasl.password"] == SECRET  # but it does reach librdkafka
        assert SECRET not in repr(clusters_from_environment({"KAFKA_SASL_PASSWORD": SECRET}))

    def test_password_from_env_never_in_errors(self, env, tmp_path):
        env.setenv("THE_PW", SECRET)
        entry = {**TWO_CLUSTERS[1], "sasl_password_env": "THE_PW", "sasl_mechanism": "GSSAPI"}
        env.setenv("KAFKA_CLUSTERS_FILE", str(write_json(tmp_path / "c.json", [entry])))
        with pytest.raises(ImproperlyConfigured, match="SASL mechanism") as info:
            clusters.configured_clusters()
        assert SECRET not in str(info.value)

    @pytest.mark.parametrize(
        "entry",
        [
            {"sasl_password": SECRET, "sasl_password_env": "X"},
            {"sasl_password": SECRET, "security_protocol": "PLAIN"},
            {"sasl_password": SECRET, "request_timeout": -1},
            {"sasl_password": SECRET, "password": SECRET[::-1]},
            {"sasl_password": [SECRET]},
        ],
    )
    def test_password_in_file_never_in_errors(self, tmp_path, entry):
        path = write_json(tmp_path / "c.json", [{"name": "a", "bootstrap_servers": "a:1", **entry}])
        with pytest.raises(ConfigError) as info:
            clusters_from_file(path, env={})
        assert SECRET not in str(info.value)
        assert SECRET[::-1] not in str(info.value)

    def test_password_in_env_list_never_in_errors(self):
        env = {
            "KAFKA_CLUSTERS": "a",
            "KAFKA_A_BOOTSTRAP_SERVERS": "a:1",
            "KAFKA_A_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KAFKA_A_SASL_MECHANISM": "OAUTHBEARER",
            "KAFKA_A_SASL_PASSWORD": SECRET,
        }
        with pytest.raises(ConfigError, match="SASL mechanism") as info:
            clusters_from_env_list(env)
        assert SECRET not in str(info.value)
