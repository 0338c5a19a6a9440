"""run_bounded with plain concurrent.futures: no broker and no confluent-kafka involved."""

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from kafka_admin.clients import run_bounded


class TestRunBounded:
    def test_never_more_than_limit_in_flight(self):
        pool = ThreadPoolExecutor(max_workers=32)
        in_flight = 0
        peak = 0
        lock = threading.Lock()

        def work(key):
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.01)
            with lock:
                in_flight -= 1
            if key == 13:
                raise ValueError("bad group")
            return key * 2

        def launch(chunk):
            return {k: pool.submit(work, k) for k in chunk}

        keys = list(range(60))
        results = run_bounded(keys, launch, batch=1, limit=5, deadline=time.monotonic() + 10)
        assert peak <= 5
        assert results[7] == 14
        assert isinstance(results[13], ValueError)
        assert set(results) == set(keys)

    def test_batches_group_keys_per_call(self):
        calls = []

        def launch(chunk):
            calls.append(list(chunk))
            out = {}
            for k in chunk:
                f = Future()
                f.set_result(k)
                out[k] = f
            return out

        results = run_bounded(list(range(7)), launch, batch=3, limit=10, deadline=time.monotonic() + 5)
        assert calls == [[0, 1, 2], [3, 4, 5], [6]]
        assert results == {k: k for k in range(7)}

    def test_deadline_turns_pending_and_unstarted_into_timeouts(self):
        never = {}

        def launch(chunk):
            return {k: never.setdefault(k, Future()) for k in chunk}

        started = time.monotonic()
        results = run_bounded(list(range(4)), launch, batch=1, limit=2, deadline=time.monotonic() + 0.2)
        assert time.monotonic() - started < 2
        assert all(isinstance(v, TimeoutError) for v in results.values())
        assert set(results) == {0, 1, 2, 3}

    def test_a_call_that_raises_marks_its_keys(self):
        def launch(chunk):
            raise ValueError("rejected")

        results = run_bounded(["a", "b"], launch, batch=1, limit=2, deadline=time.monotonic() + 1)
        assert all(isinstance(v, ValueError) for v in results.values())
