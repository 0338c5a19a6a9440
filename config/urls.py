from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

import dashboard.converters  # noqa: F401 (registers the <group_id:...> converter)
from dashboard.access.throttle import ThrottledLoginView
from dashboard.alerts import views as alert_views
from dashboard.audit import audit_log
from dashboard.dlq import views as dlq_views
from dashboard.metrics_view import metrics_view
from dashboard.monitor import views
from dashboard.offsets import views as reset_views
from dashboard.schemas import views as schema_views
from dashboard.search import search_page

cluster_patterns = [
    path("", views.overview, name="overview"),
    path("brokers/", views.brokers, name="brokers"),
    path("search/", search_page, name="search"),
    path("topics/", views.topics, name="topics"),
    path("topics/<str:topic>/", views.topic, name="topic"),
    path(
        "topics/<str:topic>/messages/<int:partition>/<int:offset>/<str:part>/",
        views.download,
        name="message_download",
    ),
    path("schemas/", schema_views.schemas, name="schemas"),
    path("dlq/", dlq_views.dlq_list, name="dlq"),
    path("dlq/runs/<str:run_id>/", dlq_views.dlq_run, name="dlq_run"),
    path("dlq/<str:topic>/", dlq_views.dlq_topic, name="dlq_topic"),
    path("dlq/<str:topic>/plan/", dlq_views.dlq_plan, name="dlq_plan"),
    path("dlq/<str:topic>/reprocess/", dlq_views.dlq_reprocess, name="dlq_reprocess"),
    path("dlq/<str:topic>/resolve/", dlq_views.dlq_resolve, name="dlq_resolve"),
    path("dlq/<str:topic>/<int:partition>/<int:offset>/", dlq_views.dlq_record, name="dlq_record"),
    path("groups/", views.groups, name="groups"),
    path("reset/<group_id:group>/", reset_views.reset_form, name="reset_offsets"),
    path("reset-preview/<group_id:group>/", reset_views.reset_preview, name="reset_preview"),
    path("reset-apply/<group_id:group>/", reset_views.reset_apply, name="reset_apply"),
    path("groups/<group_id:group>/", views.group, name="group"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("c/<str:cluster>/", include(cluster_patterns)),
    path("api/", include("dashboard.api.urls")),
    path("audit/", audit_log, name="audit"),
    path("alerts/", alert_views.alerts_page, name="alerts"),
    path("alerts/rules/new/", alert_views.rule_edit, name="alert_rule_new"),
    path("alerts/rules/<int:pk>/", alert_views.rule_edit, name="alert_rule_edit"),
    path("alerts/rules/<int:pk>/delete/", alert_views.rule_delete, name="alert_rule_delete"),
    path("alerts/silences/", alert_views.silence_create, name="silence_create"),
    path("alerts/silences/<int:pk>/end/", alert_views.silence_end, name="silence_end"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    # Only log out and change password: password reset by e-mail is not offered (no mail is configured).
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
]
