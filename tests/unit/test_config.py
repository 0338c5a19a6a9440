import pytest

from kafka_admin.config import ClusterConfig, ConfigError, from_env


class TestClusterConfig:
    def test_defaults_to_local_plaintext(self):
        c = from_env({})
        assert c.bootstrap_servers == "127.0.0.1:9092"
        assert c.client_config()["security.protocol"] == "PLAINTEXT"
        assert "sasl.password" not in c.client_config()

    def test_sasl_from_env(self):
        c = from_env(
            {
                "KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093",
                "KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
                "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "KAFKA_SASL_USERNAME": "svc",
                "KAFKA_SASL_PASSWORD": "s3cr3t-pw",
                "KAFKA_SSL_CA_LOCATION": "/etc/ca.pem",
                "KAFKA_REQUEST_TIMEOUT": "2.5",
            }
        )
        conf = c.client_config()
        assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
        assert conf["sasl.password"] == "s3cr3t-pw"
        assert conf["ssl.ca.location"] == "/etc/ca.pem"
        assert c.timeout_ms == 2500

    def test_password_never_in_repr_or_description(self):
        c = ClusterConfig(
            security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="hunter2"
        )
        assert "hunter2" not in repr(c)
        assert "hunter2" not in str(c.describe())

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"bootstrap_servers": " "}, "bootstrap"),
            ({"security_protocol": "TLS"}, "security protocol"),
            ({"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI"}, "SASL mechanism"),
            ({"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN"}, "username"),
            ({"request_timeout_s": 0}, "timeout"),
            ({"offsets_source": "zk"}, "offsets source"),
        ],
    )
    def test_bad_settings_name_the_problem(self, kwargs, message):
        with pytest.raises(ConfigError, match=message):
            ClusterConfig(**kwargs)

    def test_offsets_source_defaults_to_auto_everywhere(self):
        """offsets-topic where __consumer_offsets is readable, admin otherwise (docs/offsets-source.md)."""
        assert ClusterConfig().offsets_source == "auto"
        assert from_env({}).offsets_source == "auto"
        assert from_env({"KAFKA_OFFSETS_SOURCE": "offsets-topic"}).offsets_source == "offsets-topic"

    def test_non_numeric_timeout_is_a_clear_error(self):
        with pytest.raises(ConfigError, match="KAFKA_REQUEST_TIMEOUT must be a number"):
            from_env({"KAFKA_REQUEST_TIMEOUT": "soon"})
