from django.contrib import admin
from django.urls import include, path

from dashboard import views

cluster_patterns = [
    path("", views.overview, name="overview"),
    path("brokers/", views.brokers, name="brokers"),
    path("topics/", views.topics, name="topics"),
    path("topics/<str:topic>/", views.topic, name="topic"),
    path(
        "topics/<str:topic>/messages/<int:partition>/<int:offset>/<str:part>/",
        views.download,
        name="message_download",
    ),
    path("groups/", views.groups, name="groups"),
    path("groups/<path:group>/", views.group, name="group"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("c/<str:cluster>/", include(cluster_patterns)),
    path("api/", include("dashboard.api_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
