from kafka_admin.snapshot.model import partition_lag


class TestPartitionLag:
    def test_end_minus_committed(self):
        assert partition_lag(40, 100) == 60

    def test_caught_up_is_zero(self):
        assert partition_lag(100, 100) == 0

    def test_no_commit_has_no_lag(self):
        assert partition_lag(None, 100) is None
        assert partition_lag(-1, 100) is None

    def test_unknown_end_has_no_lag(self):
        assert partition_lag(5, None) is None

    def test_committed_past_end_is_reported_as_kafka_does(self):
        # kafka-consumer-groups prints the plain difference; we do not hide it.
        assert partition_lag(12, 10) == -2
