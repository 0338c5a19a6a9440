"""URL converters for names Kafka allows and Django's built-in ones do not carry."""

from __future__ import annotations

from django.urls import register_converter


class GroupIdConverter:
    """A consumer group id: any non-empty text, slashes and line breaks included.

    Kafka puts no rule on group ids; Django's ``path`` converter (``.+``) stops at a line break,
    so a group whose id holds one had no page. Reversing quotes the id (a newline becomes %0A),
    and the request path comes back decoded.
    """

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(GroupIdConverter, "group_id")
