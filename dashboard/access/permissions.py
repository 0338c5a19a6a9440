"""Roles: viewers read, operators act. READ_ONLY switches every action off for everybody.

An operator is a user with the permission dashboard.operate (the "operators" group has it;
superusers have every permission). Checks happen in the views that mutate, not in templates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string

OPERATE = "dashboard.operate"


class OnePermissionQuery:
    """A ModelBackend's get_all_permissions in one query instead of two (the user's own, the
    groups'): a page that asks for a role (the group page's reset link) paid both. The same answer
    as Django's, cached on the user object for the request alone, as Django's is."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            from django.contrib.auth.models import Permission

            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(user=user_obj) | Q(group__user=user_obj))
            rows = perms.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache


def can_operate(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(OPERATE) and not settings.READ_ONLY)


def why_not(user: Any) -> str:
    if settings.READ_ONLY:
        return "the dashboard runs in read-only mode (DASHBOARD_READ_ONLY): no action is possible"
    if not (user and user.is_authenticated):
        return "log in as an operator to do this"
    return "this needs the operator role; ask an administrator to add you to the 'operators' group"


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_operate(request.user):
            html = render_to_string("error.html", {"status": 403, "message": why_not(request.user)}, request=request)
            return HttpResponseForbidden(html)
        return view(request, *args, **kwargs)

    return wrapper


def ensure_roles(**kwargs: Any) -> None:
    """The two roles as Django groups: viewers (read) and operators (act). Run after every migrate."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from dashboard.models import AuditEntry

    content_type = ContentType.objects.get_for_model(AuditEntry)
    operate, _ = Permission.objects.get_or_create(
        codename="operate",
        content_type=content_type,
        defaults={"name": "Can act: reprocess and resolve DLQ records, reset offsets, edit alert rules"},
    )
    Group.objects.get_or_create(name="viewers")
    operators, _ = Group.objects.get_or_create(name="operators")
    operators.permissions.add(operate)
