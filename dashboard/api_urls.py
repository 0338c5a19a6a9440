"""URLs of the JSON API (docs/api.md), included under /api/ by config/urls.py.

Group ids may contain any character, slashes included, hence <path:group>; the last route turns
every other /api/ path into a JSON 404 instead of Django's HTML page.
"""

from django.urls import path, re_path

from dashboard import api

app_name = "api"

urlpatterns = [
    path("v1/clusters/", api.clusters, name="clusters"),
    path("v1/clusters/<str:cluster>/", api.cluster, name="cluster"),
    path("v1/clusters/<str:cluster>/brokers/", api.brokers, name="brokers"),
    path("v1/clusters/<str:cluster>/topics/", api.topics, name="topics"),
    path("v1/clusters/<str:cluster>/topics/<path:topic>/", api.topic, name="topic"),
    path("v1/clusters/<str:cluster>/groups/", api.groups, name="groups"),
    path("v1/clusters/<str:cluster>/groups/<path:group>/", api.group, name="group"),
    re_path(r"", api.not_found, name="not_found"),
]
