"""Throttling of guesses: failed logins, and invalid API or /metrics tokens (docs/security.md).

Logins: after LOGIN_THROTTLE_FAILURES failures for one username, or from one client address, within
LOGIN_THROTTLE_WINDOW_S, further attempts for that username or from that address are refused for
LOGIN_THROTTLE_COOLDOWN_S; then the count starts again. A refused attempt checks no password at all,
answers 429 with the same message whether the username exists or not, and does not extend the
cool-down. A successful login clears the counters of its username and its address.

Three pieces enforce it for every way in (the login page, the admin's login, any authenticate()):
- ThrottledModelBackend refuses while locked (the authentication backend in settings);
- the user_login_failed / user_logged_in receivers count failures and clear them on success;
- ThrottledLoginView (accounts/login/) turns a refusal into a clear 429 page instead of the form's
  "did not match".

Tokens: a request to /api/ or /metrics that carries an Authorization header and is answered 401
counts against the client address; after TOKEN_THROTTLE_FAILURES within the window that address gets
429 for the cool-down on such requests (TokenThrottleMiddleware). Requests without the header (the
login session, anonymous read) are not affected.

Counters live in the Django cache: per process with the local-memory cache, shared through Redis
when REDIS_URL is set. Keys hold digests of usernames and addresses, never the values themselves.
Behind a reverse proxy every request comes from the proxy's address: set CLIENT_IP_HEADER.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

from dashboard.access.permissions import OnePermissionQuery

TOKEN_PATHS = ("/api/", "/metrics")

log = logging.getLogger(__name__)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the CLIENT_IP_HEADER a trusted reverse proxy sets.

    With X-Forwarded-For, each proxy appends the address it received the request from; the entry
    CLIENT_IP_PROXIES from the right is the one our own (outermost trusted) proxy wrote, so a
    client cannot choose its address by sending the header itself.
    """
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        hops = [hop.strip() for hop in request.headers.get(header, "").split(",") if hop.strip()]
        if hops:
            proxies = max(1, int(getattr(settings, "CLIENT_IP_PROXIES", 1)))
            return hops[-proxies] if len(hops) >= proxies else hops[0]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:40]


class Limiter:
    """Failure counters per identity (kind -> value, e.g. user and ip) and the locks they lead to.

    A lock holds the wall-clock moment it ends (shared through Redis between processes, so not a
    monotonic clock); `clock` is that time source, which a test may hold still.
    """

    def __init__(
        self, scope: str, limit_setting: str, default_limit: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.scope = scope
        self.limit_setting = limit_setting
        self.default_limit = default_limit
        self.clock = clock

    @property
    def limit(self) -> int:
        return max(1, int(_setting(self.limit_setting, self.default_limit)))

    @staticmethod
    def window() -> int:
        return max(1, int(_setting("LOGIN_THROTTLE_WINDOW_S", 900)))

    @staticmethod
    def cooldown() -> int:
        return max(1, int(_setting("LOGIN_THROTTLE_COOLDOWN_S", 900)))

    def _key(self, what: str, kind: str, value: str) -> str:
        return f"throttle:{self.scope}:{what}:{kind}:{_digest(value)}"

    def locked_for(self, identities: Mapping[str, str]) -> float:
        """Seconds until every lock on these identities ends; 0 when none is locked (or the cache is down:
        a cache outage must not lock everybody out; it only suspends throttling, and is logged)."""
        keys = [self._key("lock", kind, value) for kind, value in identities.items()]
        try:
            until = max((float(v) for v in cache.get_many(keys).values()), default=0.0)
        except Exception:  # noqa: BLE001 - any cache backend failure (Redis down)
            log.warning("login throttling suspended: the cache is unavailable")
            return 0.0
        return max(0.0, until - self.clock())

    def fail(self, identities: Mapping[str, str]) -> None:
        """Count one failure for each identity; lock the ones that reach the limit."""
        try:
            self._count(identities)
        except Exception:  # noqa: BLE001 - any cache backend failure (Redis down): nothing to count in
            log.warning("login failure not counted: the cache is unavailable")

    def _count(self, identities: Mapping[str, str]) -> None:
        window, limit = self.window(), self.limit
        for kind, value in identities.items():
            count_key = self._key("count", kind, value)
            cache.add(count_key, 0, window)
            try:
                count = cache.incr(count_key)
            except ValueError:  # expired between add and incr
                cache.set(count_key, 1, window)
                count = 1
            if count >= limit:  # locked; after the cool-down the count starts again
                cooldown = self.cooldown()
                cache.set(self._key("lock", kind, value), self.clock() + cooldown, cooldown)
                cache.delete(count_key)

    def reset(self, identities: Mapping[str, str]) -> None:
        keys = [self._key(what, kind, value) for kind, value in identities.items() for what in ("count", "lock")]
        with contextlib.suppress(Exception):  # a cache outage: nothing stored to reset
            cache.delete_many(keys)


logins = Limiter("login", "LOGIN_THROTTLE_FAILURES", 5)
tokens = Limiter("token", "TOKEN_THROTTLE_FAILURES", 10)


def login_identities(request: HttpRequest, username: str | None) -> dict[str, str]:
    return {"user": (username or "").strip().casefold(), "ip": client_ip(request)}


def _username(credentials: Mapping[str, Any]) -> str:
    return str(credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username") or "")


# --- enforcement --------------------------------------------------------------------------------


class ThrottledModelBackend(OnePermissionQuery, ModelBackend):
    """Django's ModelBackend that refuses, without checking the password, while the login is locked
    (and reads a user's permissions in one query: permissions.OnePermissionQuery)."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        _refuse_while_locked(request, username, kwargs)
        return super().authenticate(request, username=username, password=password, **kwargs)

    async def aauthenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        await sync_to_async(_refuse_while_locked)(request, username, kwargs)
        return await super().aauthenticate(request, username=username, password=password, **kwargs)


def _refuse_while_locked(request: HttpRequest | None, username: str | None, credentials: Mapping[str, Any]) -> None:
    if request is None:  # not a login by a client (a management command, a test): nothing to throttle
        return
    name = username if username is not None else _username(credentials)
    if logins.locked_for(login_identities(request, name)) > 0:
        raise PermissionDenied("too many failed logins")


@receiver(user_login_failed, dispatch_uid="dashboard.access.throttle.login_failed")
def _count_failure(
    sender: Any, credentials: Mapping[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:
        return
    identities = login_identities(request, _username(credentials))
    if logins.locked_for(identities) > 0:
        return  # refused while locked: not a new guess, and the cool-down does not grow
    logins.fail(identities)


@receiver(user_logged_in, dispatch_uid="dashboard.access.throttle.logged_in")
def _clear_on_success(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and user is not None:
        logins.reset(login_identities(request, user.get_username()))


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


class ThrottledLoginView(LoginView):
    """The login page; while locked it answers 429 with a message that says so and nothing more."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = logins.locked_for(login_identities(request, request.POST.get("username")))
        if wait > 0:
            return self.refused(wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        wait = logins.locked_for(login_identities(self.request, form.data.get("username")))
        if wait > 0:  # this failure was the last one allowed
            return self.refused(wait)
        return super().form_invalid(form)

    def refused(self, wait: float) -> HttpResponse:
        form = self.get_form_class()(self.request)  # unbound: rendering it authenticates nothing
        context = self.get_context_data(form=form, throttled=True, retry_minutes=_minutes(wait))
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response


class TokenThrottleMiddleware:
    """429 for token-authenticated /api/ and /metrics requests from an address that sent too many bad tokens."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if "Authorization" not in request.headers or not path.startswith(TOKEN_PATHS):
            return self.get_response(request)
        identities = {"ip": client_ip(request)}
        wait = tokens.locked_for(identities)
        if wait > 0:
            return self.refused(path, wait)
        response = self.get_response(request)
        if response.status_code == 401:
            tokens.fail(identities)
        return response

    @staticmethod
    def refused(path: str, wait: float) -> HttpResponse:
        message = f"too many invalid tokens from your address: try again in {_minutes(wait)} min"
        if path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"error": message}, status=429)
        else:
            response = HttpResponse(message + "\n", status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(math.ceil(wait))
        response["Cache-Control"] = "no-store"
        return response
