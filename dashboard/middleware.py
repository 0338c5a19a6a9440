"""Login required by default, with an opt-in anonymous read-only mode for wall screens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import JsonResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequiredByDefault(LoginRequiredMiddleware):
    """Every view needs a login unless marked @login_not_required.

    With ALLOW_ANONYMOUS_READ, safe requests pass through anonymously; views that mutate still
    check permissions themselves. API paths answer 401 JSON instead of redirecting to a form.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.user.is_authenticated or not getattr(view_func, "login_required", True):
            return None
        if settings.ALLOW_ANONYMOUS_READ and request.method in SAFE_METHODS:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "authentication required"}, status=401)
        return self.handle_no_permission(request, view_func)
