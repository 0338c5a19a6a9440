"""The overview's lists keep their order when lags and rates only wobble (issue 18: rows 3-6 reordered)."""

import pytest

from dashboard.clusters import default_cluster
from dashboard.monitor.fragments import NO_BAND, coarse, overview_context
from dashboard.state import store
from tests.factories import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def test_bands_are_quarter_decades_and_nothing_is_below_all():
    assert coarse(3.2) == coarse(4) == coarse(5.6)
    assert coarse(5) < coarse(9) < coarse(1000)
    assert coarse(0) == coarse(None) == coarse(-3) == NO_BAND < coarse(0.001)


def test_noise_does_not_reorder_the_most_lagging_groups():
    cluster = default_cluster().name
    orders = []
    for noise in ([4, 5, 4, 1000, 0], [5, 4, 4, 990, 0], [4, 4, 5, 1010, 0]):
        groups = {name: {("orders", 0): 2000 - lag} for name, lag in zip("cbaez", noise, strict=True)}
        store.save(snapshot(cluster=cluster, ends={"orders": [2000]}, groups=groups))
        orders.append([r.group_id for r in overview_context(cluster)["top_groups"]])
    assert orders[0] == ["e", "a", "b", "c", "z"]  # the big one first, then the small ones by name
    assert orders[0] == orders[1] == orders[2]
