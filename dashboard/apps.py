from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Kafka dashboard"

    def ready(self) -> None:
        # Register the live fragment renderers in every process (server, poller, tests).
        from dashboard import pages  # noqa: F401 - the status bar renderer
        from dashboard.access import throttle  # noqa: F401 - its login-failure signal receivers
        from dashboard.access.permissions import ensure_roles
        from dashboard.dlq import fragments as dlq_fragments  # noqa: F401 - DLQ renderers and pages
        from dashboard.monitor import fragments as monitor_fragments  # noqa: F401 - monitoring renderers and pages

        # The roles exist in every database, also after a test flush.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="dashboard-roles")
