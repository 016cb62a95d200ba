"""The weekly digest written out: Markdown, and HTML ready for e-mail (inline styles, no
external assets, every text escaped). Pure."""

from __future__ import annotations

import html
import re

from insights.digest import Digest

QUIET = "A quiet week: no incident, no growing complaint theme, nobody waiting for contact."
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")

FONT = "font-family:Arial,Helvetica,sans-serif;color:#222;"
STYLES = {
    "body": f"{FONT}max-width:680px;margin:0 auto;padding:16px;font-size:14px;line-height:1.45;",
    "h1": f"{FONT}font-size:20px;margin:0 0 4px 0;",
    "sub": f"{FONT}font-size:13px;color:#666;margin:0 0 16px 0;",
    "quiet": f"{FONT}background:#eef7ee;border-left:4px solid #2ca02c;padding:8px 12px;",
    "h2": f"{FONT}font-size:16px;margin:20px 0 6px 0;border-bottom:1px solid #ddd;",
    "ul": "margin:0;padding-left:20px;",
    "li": f"{FONT}margin:0 0 4px 0;",
    "a": "color:#1f5fbf;text-decoration:underline;",
    "none": f"{FONT}color:#777;margin:0;",
    "foot": f"{FONT}font-size:12px;color:#888;margin-top:24px;",
}


def markdown_text(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so it shows literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def to_markdown(digest: Digest) -> str:
    """The digest as Markdown: a title, then each section's lines as links."""
    out = [f"# Otklik weekly digest: {markdown_text(digest.week.describe())}", ""]
    if digest.empty:
        out += [f"**{markdown_text(QUIET)}**", ""]
    for section in digest.sections:
        out += [f"## {markdown_text(section.title)}", ""]
        if not section.lines:
            out += [f"_{markdown_text(section.none)}_", ""]
            continue
        out += [f"- [{markdown_text(line.text)}]({_url(line.link)})" for line in section.lines]
        out.append("")
    out.append(f"[Open this digest in the dashboard]({_url(digest.link)})")
    return "\n".join(out) + "\n"


def to_html(digest: Digest) -> str:
    """The digest as a standalone HTML page for e-mail: inline styles only, text escaped."""
    title = f"Otklik weekly digest: {digest.week.describe()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_h(title)}</title></head>",
        f'<body style="margin:0;background:#fff;"><div style="{STYLES["body"]}">',
        f'<h1 style="{STYLES["h1"]}">Otklik weekly digest</h1>',
        f'<p style="{STYLES["sub"]}">Week {_h(digest.week.describe())}</p>',
    ]
    if digest.empty:
        parts.append(f'<p style="{STYLES["quiet"]}">{_h(QUIET)}</p>')
    for section in digest.sections:
        parts.append(f'<h2 style="{STYLES["h2"]}">{_h(section.title)}</h2>')
        if not section.lines:
            parts.append(f'<p style="{STYLES["none"]}">{_h(section.none)}</p>')
            continue
        parts.append(f'<ul style="{STYLES["ul"]}">')
        parts += [f'<li style="{STYLES["li"]}"><a href="{_h(line.link)}" style="{STYLES["a"]}">'
                  f"{_h(line.text)}</a></li>" for line in section.lines]
        parts.append("</ul>")
    parts.append(f'<p style="{STYLES["foot"]}"><a href="{_h(digest.link)}" '
                 f'style="{STYLES["a"]}">Open this digest in the dashboard</a></p>')
    parts.append("</div></body></html>")
    return "\n".join(parts) + "\n"


def _h(text: str) -> str:
    return html.escape(str(text), quote=True)


def _url(url: str) -> str:
    """A link target Markdown keeps whole: parentheses and spaces percent-encoded."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
