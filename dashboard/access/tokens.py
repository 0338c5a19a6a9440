"""Bearer tokens for scripts: `Authorization: Bearer <token>`.

A token is shown once when created (manage.py create_api_token); the database keeps only its
SHA-256 and its first characters, so a leaked database does not leak usable tokens. Looking a
token up by its digest compares digests, never the token, so timing says nothing about it.
Tokens are never logged.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from dashboard.models import ApiToken

TOKEN_PREFIX = "kd_"
MAX_TOKEN_LENGTH = 200
LAST_USED_EVERY = timedelta(minutes=1)


def generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(user: AbstractBaseUser, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: the stored row and the token itself (to be shown once, never stored)."""
    token = generate()
    row = ApiToken.objects.create(user=user, name=name, digest=ApiToken.hash(token), prefix=token[:8])
    return row, token


def has_authorization(request: HttpRequest) -> bool:
    return "Authorization" in request.headers


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one or with another scheme."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def authenticate_bearer(request: HttpRequest) -> AbstractBaseUser | None:
    """The active user owning the request's bearer token, or None (no token, unknown token, inactive user)."""
    token = bearer_token(request)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=ApiToken.hash(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
