"""What the demo site's renderers share: a response body with its type, and small helpers."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime

e = html.escape
URL = re.compile(r"(https?://[^\s<]+)")


@dataclass(frozen=True)
class Blob:
    """A rendered response: bytes, their content type and the HTTP status."""

    body: bytes
    content_type: str
    status: int = 200


def json_blob(value, status: int = 200) -> Blob:
    return Blob(json.dumps(value, ensure_ascii=False).encode("utf-8"),
                "application/json; charset=utf-8", status)


def html_blob(text: str, status: int = 200) -> Blob:
    return Blob(text.encode("utf-8"), "text/html; charset=utf-8", status)


def text_html(text: str, br: str = "<br>") -> str:
    """Plain text as HTML: escaped, links clickable, line breaks kept."""
    escaped = URL.sub(r'<a href="\1" rel="nofollow">\1</a>', e(text))
    return escaped.replace("\n", br)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def not_found(what: str = "This page does not exist.") -> Blob:
    return html_blob(f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Not found"
                     f"</title></head><body><h1>404</h1><p>{e(what)}</p></body></html>", 404)
