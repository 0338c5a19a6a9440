"""URLs of the JSON API (docs/api.md), included under /api/ by config/urls.py.

Group ids may contain any character, slashes included, hence <group_id:group>; the last route turns
every other /api/ path into a JSON 404 instead of Django's HTML page.
"""

from django.urls import path, re_path

import dashboard.converters  # noqa: F401 (registers the <group_id:...> converter)
from dashboard.api.base import not_found
from dashboard.dlq import api as dlq_api
from dashboard.monitor import api

app_name = "api"

urlpatterns = [
    path("v1/clusters/", api.clusters, name="clusters"),
    path("v1/clusters/<str:cluster>/", api.cluster, name="cluster"),
    path("v1/clusters/<str:cluster>/brokers/", api.brokers, name="brokers"),
    path("v1/clusters/<str:cluster>/topics/", api.topics, name="topics"),
    path("v1/clusters/<str:cluster>/topics/<path:topic>/", api.topic, name="topic"),
    path("v1/clusters/<str:cluster>/groups/", api.groups, name="groups"),
    path("v1/clusters/<str:cluster>/groups/<group_id:group>/", api.group, name="group"),
    path("v1/clusters/<str:cluster>/dlq/", dlq_api.dlq_list, name="dlq"),
    path("v1/clusters/<str:cluster>/dlq/runs/<str:run_id>/", dlq_api.dlq_run, name="dlq_run"),
    path("v1/clusters/<str:cluster>/dlq/<str:topic>/records/", dlq_api.dlq_records, name="dlq_records"),
    path(
        "v1/clusters/<str:cluster>/dlq/<str:topic>/records/<int:partition>/<int:offset>/",
        dlq_api.dlq_record,
        name="dlq_record",
    ),
    path("v1/clusters/<str:cluster>/dlq/<str:topic>/plan/", dlq_api.dlq_plan, name="dlq_plan"),
    path("v1/clusters/<str:cluster>/dlq/<str:topic>/reprocess/", dlq_api.dlq_reprocess, name="dlq_reprocess"),
    path("v1/clusters/<str:cluster>/dlq/<str:topic>/resolve/", dlq_api.dlq_resolve, name="dlq_resolve"),
    re_path(r"", not_found, name="not_found"),
]
