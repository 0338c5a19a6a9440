from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Kafka dashboard"

    def ready(self) -> None:
        # Register the live fragment renderers in every process (server, poller, tests).
        from dashboard import fragments  # noqa: F401
