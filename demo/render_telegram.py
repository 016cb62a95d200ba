"""The demo's Telegram channels as the public web preview (``t.me/s/{channel}``) shows them.

Routes under ``/tg``: ``/s/{channel}`` (the newest 20 posts, oldest first) and
``/s/{channel}?before={id}`` (the 20 posts before that id), each page with a "more" link
(``a.tme_messages_more[data-before]``) while older posts exist; ``/{channel}/{id}`` shows
one post. Only channel posts: the preview never shows comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from demo.render_common import Blob, e, html_blob, text_html

PREFIX = "/tg"
PER_PAGE = 20


@dataclass
class Telegram:
    """``telegram.json`` with lookups."""

    data: dict

    def __post_init__(self):
        self.channels = {c["name"]: c for c in self.data["channels"]}


def _views(count: int) -> str:
    return f"{count / 1000:.1f}K".replace(".0K", "K") if count >= 1000 else str(count)


def _message(base: str, channel: dict, post: dict) -> str:
    name = channel["name"]
    home = f"{base}{PREFIX}/{name}"
    link = f"{home}/{post['id']}"
    text = text_html(post["text"], "<br/>")
    return f"""<div class="tgme_widget_message_wrap js-widget_message_wrap">
<div class="tgme_widget_message text_not_supported_wrap js-widget_message"
  data-post="{name}/{post['id']}">
  <div class="tgme_widget_message_user"><a href="{home}"><i
    class="tgme_widget_message_user_photo bgcolor2" data-content="{e(channel['title'][:1])}"></i>
  </a></div>
  <div class="tgme_widget_message_bubble">
    <div class="tgme_widget_message_author accent_color"><a
      class="tgme_widget_message_owner_name" href="{home}"><span
      dir="auto">{e(channel['title'])}</span></a></div>
    <div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>
    <div class="tgme_widget_message_footer compact js-message_footer">
      <div class="tgme_widget_message_info short js-message_info">
        <span class="tgme_widget_message_views">{_views(post['views'])}</span><span
          class="copyonly"> views</span><span class="tgme_widget_message_meta"><a
          class="tgme_widget_message_date" href="{link}"><time datetime="{post['time']}"
          class="time">{post['time'][11:16]}</time></a></span>
      </div>
    </div>
  </div>
</div></div>"""


def render_channel(site: Telegram, base: str, name: str, before: int | None) -> Blob | None:
    channel = site.channels.get(name)
    if channel is None:
        return None
    posts = [p for p in channel["posts"] if before is None or p["id"] < before]
    shown = posts[-PER_PAGE:]
    more = ""
    if shown and len(posts) > len(shown):
        first = shown[0]["id"]
        more = (f'  <div class="tgme_widget_message_centered js-messages_more_wrap"><a '
                f'href="{PREFIX}/s/{name}?before={first}" class="tme_messages_more '
                f'js-messages_more" data-before="{first}"></a></div>\n')
    messages = "\n".join(_message(base, channel, p) for p in shown)
    canonical = f"{base}{PREFIX}/s/{name}" + (f"?before={before}" if before else "")
    page = f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>{e(channel['title'])} – Telegram</title>
    <meta property="og:title" content="{e(channel['title'])}">
    <link rel="canonical" href="{e(canonical)}">
  </head>
  <body class="widget_frame_base tgme_webpage tme_channel_body">
    <header class="tgme_header search_collapsed">
      <div class="tgme_header_info"><div class="tgme_header_title"><span
        dir="auto">{e(channel['title'])}</span></div></div>
    </header>
    <main class="tgme_main">
      <section class="tgme_channel_history js-message_history">
{more}{messages}
      </section>
    </main>
    <aside class="tgme_right_column">
    <div class="tgme_channel_info">
      <div class="tgme_channel_info_header"><div class="tgme_channel_info_header_title"><span
        dir="auto">{e(channel['title'])}</span></div>
      <div class="tgme_channel_info_header_username"><a
        href="{base}{PREFIX}/{name}">@{name}</a></div></div>
      <div class="tgme_channel_info_description">{e(channel['description'])}</div>
      <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span
        class="counter_value">{e(str(channel['subscribers']))}</span> <span
        class="counter_type">subscribers</span></div></div>
    </div>
    </aside>
  </body>
</html>
"""
    return html_blob(page)


def route(site: Telegram, base: str, path: str, query: dict[str, list[str]]) -> Blob | None:
    match = re.fullmatch(rf"{PREFIX}/s/(\w+)", path)
    if match:
        value = (query.get("before") or [""])[0]
        before = int(value) if value.isdigit() else None
        return render_channel(site, base, match.group(1), before)
    match = re.fullmatch(rf"{PREFIX}/(\w+)/(\d+)", path)
    if match and match.group(1) in site.channels:
        channel = site.channels[match.group(1)]
        post = next((p for p in channel["posts"] if p["id"] == int(match.group(2))), None)
        if post is None:
            return None
        return html_blob(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
                         f'{e(channel["title"])}</title></head><body class="tgme_widget_body">'
                         f'{_message(base, channel, post)}</body></html>')
    return None
