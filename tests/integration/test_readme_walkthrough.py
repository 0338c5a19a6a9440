"""The README's "Dead letters, step by step", run from the README itself against the suite's broker.

Why read the steps from README.md: the walk-through is what a new user types and clicks first;
when a label, a command or a page changes, this test fails instead of the README quietly lying.
Every **bold** label of a step must be on the page that step shows; every `code` span must be
one this test knows how to check (a command it runs, a name it maps to the test's own topics).
The records are real demo poison orders, failed by the demo's own parser and dead-lettered with
the demo's own failure headers, on uniquely named topics (the demo's fixed topic names are not
written on the shared test broker).
"""

from __future__ import annotations

import random
import re
import subprocess
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from dashboard.models import DlqRecord, ReprocessRun
from dashboard.poller.loop import Poller
from kafka_admin.config import ClusterConfig
from kafka_admin.demo import InvalidOrderError, parse_order, run_demo
from kafka_admin.demo.dead_letters import exception_class_name, failure_headers
from kafka_admin.demo.records import order_record
from kafka_admin.demo.workload import POISON_EVERY

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

README = Path(__file__).resolve().parents[2] / "README.md"
STEP = re.compile(r"^(\d+)\. (.+)$")


def readme_steps() -> list[str]:
    """The numbered lines between the walk-through markers, in order."""
    text = README.read_text()
    start, end = text.index("<!-- walk-through"), text.index("<!-- /walk-through -->")
    steps = [m.group(2) for line in text[start:end].splitlines() if (m := STEP.match(line))]
    assert [int(STEP.match(line).group(1)) for line in text[start:end].splitlines() if STEP.match(line)] == list(
        range(1, len(steps) + 1)
    ), "the walk-through steps are numbered 1..n"
    return steps


def bold(step: str) -> list[str]:
    return re.findall(r"\*\*(.+?)\*\*", step)


def code(step: str) -> list[str]:
    return re.findall(r"`([^`]+)`", step)


def visible(html: str, label: str, n: int | None) -> bool:
    """The label as a person reads it on the page: N is the number on screen, whitespace folded."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("( ", "(").replace(" )", ")")
    pattern = re.escape(label).replace("N", r"[\d,]+" if n is None else f"{n:,}")
    return re.search(pattern, text) is not None


def wait_run(run_id: str, timeout: float = 60) -> ReprocessRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ReprocessRun.objects.get(run_id=run_id)
        if run.state != "running":
            return run
        time.sleep(0.2)
    raise TimeoutError("the reprocess run did not finish")


@pytest.fixture
def demo_dlq(kafka, dashboard_cluster):
    """A DLQ holding real demo poison orders that failed the demo's parser, as the demo writes them."""
    orders = kafka.create_topic(partitions=1)
    dlq = kafka.create_topic(f"{orders}-dlq", partitions=1)
    poison = [order_record(seq, random.Random(seq), "readme") for seq in range(0, 4 * POISON_EVERY)]
    poison = [r for r in poison if _fails(r.value)]
    assert poison, "the demo writes poison orders"
    producer = kafka.producer(acks="all")
    for r in poison:
        producer.produce(orders, key=r.key, value=r.value, headers=r.headers, partition=0)
    assert producer.flush(30) == 0
    consumer = kafka.consumer(kafka.unique("readme-processor"), **{"auto.offset.reset": "earliest"})
    consumer.subscribe([orders])
    failed = kafka.consume(consumer, len(poison))
    consumer.close()
    for msg in failed:
        try:
            parse_order(msg.value())
        except (ValueError, TypeError) as exc:
            headers = failure_headers(msg, exc, group="demo-order-processor", retries=3, failed_at=time.time())
            producer.produce(dlq, key=msg.key(), value=msg.value(), headers=headers, partition=0)
    assert producer.flush(30) == 0
    Poller(dashboard_cluster, 1.0).cycle()
    return orders, dlq, len(failed)


def _fails(value: bytes | None) -> bool:
    try:
        parse_order(value)
    except (ValueError, TypeError):
        return True
    return False


def test_the_readme_dlq_walk_through(kafka, demo_dlq, tmp_path):
    orders, dlq, _ = demo_dlq
    steps = readme_steps()
    assert len(steps) >= 5, steps
    names = {"orders-dlq": dlq, "orders": orders}
    checked_code: set[str] = set()
    seen: dict[int, list[str]] = {}  # step number -> pages shown in it

    # Step: log in as the account `make run` creates (ensure_operator) with the password it printed.
    out = StringIO()
    call_command("ensure_operator", stdout=out)
    password = re.search(r"with password: (\S+)", out.getvalue()).group(1)
    client = Client()
    assert client.login(username="operator", password=password)
    checked_code |= {"operator", "make run"}
    login_page = Client().get(reverse("login")).content.decode()

    overview = client.get(reverse("overview", args=["test"])).content.decode()
    dlq_list = client.get(reverse("dlq", args=["test"])).content.decode()
    assert reverse("dlq_topic", args=["test", dlq]) in dlq_list
    topic_url = reverse("dlq_topic", args=["test", dlq])
    topic_page = client.get(topic_url).content.decode()
    seen[1] = [login_page, overview, dlq_list, topic_page]

    record = client.get(reverse("dlq_record", args=["test", dlq, 0, 0])).content.decode()
    assert "Stack trace" in record and "kafka_dlt-exception-stacktrace" in record
    assert reverse("topic", args=["test", orders]) in record  # the link to the original order
    seen[2] = [record]

    # Step: the demo creates its state folder when it starts, so the README's `touch` works verbatim.
    stop = threading.Event()
    stop.set()  # start and stop at once: only the start-up matters here
    run_demo(kafka_config(kafka), stop, state_dir=tmp_path / "var" / "demo")
    for span in code(steps[2]):
        if span.startswith("touch "):
            subprocess.run(span, shell=True, cwd=tmp_path, check=True, timeout=10)
            assert (tmp_path / span.split()[1]).exists()
            checked_code.add(span)
    checked_code.add("var/demo")
    seen[3] = [""]

    fqcn = exception_class_name(InvalidOrderError("x"))
    checked_code.add(fqcn)
    classes = [c for s in steps for c in code(s) if c.startswith("kafka_admin.demo.")]
    assert classes == [fqcn], "the README names the demo's real exception class"
    filtered = client.get(topic_url, {"exception": fqcn})
    waiting = DlqRecord.objects.filter(topic=dlq, exception_class=fqcn, status="waiting").count()
    assert waiting > 0
    seen[4] = [filtered.content.decode()]

    filter_json = re.search(r'name="filter" value="([^"]+)"', filtered.content.decode()).group(1)
    filter_json = filter_json.replace("&quot;", '"')
    plan = client.post(reverse("dlq_plan", args=["test", dlq]), {"mode": "filter", "filter": filter_json})
    assert plan.status_code == 200
    response = client.post(
        reverse("dlq_reprocess", args=["test", dlq]), {"mode": "filter", "filter": filter_json, "confirm": "yes"}
    )
    assert response.status_code == 302
    run = wait_run(ReprocessRun.objects.get().run_id)
    assert (run.state, run.sent) == ("done", waiting)
    seen[5] = [plan.content.decode(), client.get(response["Location"]).content.decode()]

    again = client.get(topic_url, {"exception": fqcn}).content.decode()
    sent = client.get(topic_url, {"exception": fqcn, "status": "reprocessed"}).content.decode()
    assert visible(sent, f"{waiting} match the filter", None)
    keys = re.findall(r'name="key" value="([^"]+)"', topic_page)
    replan = client.post(reverse("dlq_plan", args=["test", dlq]), {"mode": "selected", "key": keys}).content.decode()
    seen[6] = [again, sent, replan]

    seen[7] = [client.get(reverse("audit")).content.decode()]

    for number, step in enumerate(steps, start=1):
        pages = seen.get(number)
        assert pages is not None, f"README step {number} is new: teach this test to run it: {step}"
        for label in bold(step):
            n = waiting if number in (4, 5) else None
            assert any(visible(html, label, n) for html in pages), f"step {number}: {label!r} is not on its page"
        for span in code(step):
            assert span in checked_code or span in names, f"step {number}: nothing checks `{span}`"


def kafka_config(kafka) -> ClusterConfig:
    return ClusterConfig(name="readme", bootstrap_servers=kafka.bootstrap)
