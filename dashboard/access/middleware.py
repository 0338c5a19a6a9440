"""Login required by default, with an opt-in anonymous read-only mode for wall screens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequiredByDefault(LoginRequiredMiddleware):
    """Every view needs a login unless marked @login_not_required.

    With ALLOW_ANONYMOUS_READ, safe requests pass through anonymously; views that mutate still
    check permissions themselves. API paths answer 401 JSON instead of redirecting to a form.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        # The view's mark first: request.user loads the session and the user from the database,
        # which probes (/healthz, /readyz) and other open views do not need.
        if not getattr(view_func, "login_required", True) or request.user.is_authenticated:
            return None
        if settings.ALLOW_ANONYMOUS_READ and request.method in SAFE_METHODS:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "authentication required"}, status=401)
        return self.handle_no_permission(request, view_func)


class ExplainMethodNotAllowed(MiddlewareMixin):
    """Give Django's empty 405 (require_POST on the action views) a body that says what to do.

    Opening an action's address in a browser (a bookmark, a pasted link) sent GET to a POST-only
    view and showed a blank page; the API answers JSON like its other errors. A MiddlewareMixin, like
    Django's own: under the ASGI server it runs its hook through sync_to_async, as they do.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code != 405 or response.content:
            return response
        allowed = response.get("Allow", "")
        if request.path.startswith("/api/"):
            message = f"{request.method} is not accepted here; this address takes {allowed or 'another method'}."
            explained: HttpResponse = JsonResponse({"error": message}, status=405)
        else:
            message = (
                f"This address performs an action and takes {allowed or 'another method'} from its form;"
                f" {request.method} is not accepted. Open the page the action belongs to instead."
            )
            html = render_to_string("error.html", {"status": 405, "message": message}, request=request)
            explained = HttpResponse(html, status=405)
        if allowed:
            explained["Allow"] = allowed
        return explained
