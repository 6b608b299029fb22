"""URL converters shared by the views."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter


class IdConverter(IntegerConverter):
    """A row id in a URL (`<id:user_id>`): 1 to 2**31 - 1, the range of an SQL INTEGER, so that a longer number
    is a 404 like any unknown id instead of an error from the database driver."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
