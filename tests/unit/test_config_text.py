"""Topic settings in plain words: units, limits, names."""

import pytest

from kafka_admin.snapshot.config_text import bytes_text, label, ms_text, value_text


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (86_400_000, "1 day"),
        (604_800_000, "7 days"),
        (3_600_000, "1 h"),
        (90_000, "1 min 30 s"),
        (90_061_000, "1 day 1 h"),
        (250, "250 ms"),
        (0, "0 s"),
    ],
)
def test_durations(ms, text):
    assert ms_text(ms) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(1 << 30, "1 GiB"), (1_048_588, "1.0 MiB"), (10_485_760, "10 MiB"), (512, "512 B"), (1 << 40, "1 TiB")],
)
def test_sizes(n, text):
    assert bytes_text(n) == text


def test_values_by_setting():
    assert value_text("retention.ms", "86400000") == "1 day"
    assert value_text("retention.ms", "-1") == "forever"
    assert value_text("retention.bytes", "-1") == "no size limit"
    assert value_text("max.message.bytes", "1048588") == "1.0 MiB"
    assert value_text("min.insync.replicas", "2") == "2"
    assert value_text("cleanup.policy", "compact") == "compacted (the latest per key kept)"
    assert value_text("message.timestamp.type", "CreateTime") == "set by the producer"
    assert value_text("some.unknown", "abc") == "abc"
    assert value_text("retention.ms", None) == "—"


def test_labels_fall_back_to_kafkas_name():
    assert label("retention.ms") == "Keep records for"
    assert label("unclean.leader.election.enable") == "unclean.leader.election.enable"


def test_the_status_bar_and_record_page_words():
    from dashboard.templatetags.dash import conventions_text, millis

    assert millis(46.2) == "46 ms" and millis(1320) == "1.3 s" and millis(None) == "—"
    assert conventions_text("spring+project") == "Spring's, the project's"
    assert conventions_text("none") == "none recognised"
