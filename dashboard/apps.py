from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Kafka dashboard"

    def ready(self) -> None:
        # Register the live fragment renderers in every process (server, poller, tests).
        from dashboard.access.permissions import ensure_roles
        from dashboard.monitor import fragments  # noqa: F401 - renderers and login-failure signal receivers

        # The roles exist in every database, also after a test flush.
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="dashboard-roles")
