"""The demo's news site: an RSS 2.0 feed and article pages with their full text.

Routes under ``/news``: ``/feed.rss`` (every article, newest first, with ``dc:creator``,
categories and a short description only: the full text is on the page), ``/`` (a list) and
``/{yyyy}/{mm}/{slug}.html`` (the article in ``itemprop="articleBody"``, between navigation,
share buttons and a "read also" box that a reader skips).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import format_datetime

from demo.render_common import Blob, e, html_blob, parse_time

PREFIX = "/news"


@dataclass
class News:
    """``news.json`` with lookups."""

    data: dict

    def __post_init__(self):
        self.by_path = {a["path"]: a for a in self.data["articles"]}


def render_feed(site: News, base: str) -> Blob:
    items = []
    for article in site.data["articles"]:
        categories = "".join(f"\n    <category><![CDATA[{c}]]></category>"
                             for c in article["categories"])
        items.append(f"""  <item>
    <title>{e(article['title'])}</title>
    <link>{e(base + article['path'])}</link>
    <dc:creator><![CDATA[{article['author']}]]></dc:creator>
    <pubDate>{format_datetime(parse_time(article['published']))}</pubDate>{categories}
    <guid isPermaLink="false">{e(base)}{PREFIX}/?p={article['id']}</guid>
    <description><![CDATA[<p>{e(article['summary'])} [&#8230;]</p>]]></description>
  </item>""")
    newest = site.data["articles"][0]["published"] if site.data["articles"] else None
    built = format_datetime(parse_time(newest)) if newest else ""
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>{e(site.data['title'])}</title>
  <atom:link href="{e(base)}{PREFIX}/feed.rss" rel="self" type="application/rss+xml"/>
  <link>{e(base)}{PREFIX}/</link>
  <description>{e(site.data['description'])}</description>
  <lastBuildDate>{built}</lastBuildDate>
  <language>ru-RU</language>
{chr(10).join(items)}
</channel>
</rss>
"""
    return Blob(body.encode("utf-8"), "application/rss+xml; charset=utf-8")


def _layout(site: News, title: str, lang: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{e(title)} — {e(site.data['title'])}</title></head>
<body class="single has-sidebar">
<header class="site-header"><a href="{PREFIX}/">{e(site.data['title'])}</a>
  <nav class="menu"><a href="{PREFIX}/">Новости</a> <a href="{PREFIX}/">Операторы</a>
  <a href="{PREFIX}/">Тарифы</a> <a href="{PREFIX}/feed.rss">RSS</a></nav></header>
{body}
<footer class="site-footer">© {e(site.data['title'])}. Fictional news bundled with Otklik.</footer>
</body>
</html>
"""


def render_article(site: News, path: str) -> Blob | None:
    article = site.by_path.get(path)
    if article is None:
        return None
    paragraphs = "\n".join(f"      <p>{e(p)}</p>" for p in article["paragraphs"])
    others = [a for a in site.data["articles"] if a is not article][:3]
    related = "\n".join(f'      <li><a href="{e(a["path"])}">{e(a["title"])}</a></li>'
                        for a in others)
    body = f"""<main class="content">
  <article class="post">
    <h1 class="entry-title">{e(article['title'])}</h1>
    <div class="entry-meta"><span class="byline">{e(article['author'])}</span>
      <time datetime="{article['published']}">{article['published'][:10]}</time></div>
    <div class="entry-content" itemprop="articleBody">
{paragraphs}
    </div>
    <div class="share-buttons"><a href="#">Telegram</a> <a href="#">Facebook</a></div>
  </article>
  <aside class="read-also"><h3>Читайте также</h3>
    <ul>
{related}
    </ul>
  </aside>
</main>"""
    return html_blob(_layout(site, article["title"], article["lang"], body))


def render_index(site: News) -> Blob:
    rows = "\n".join(f'    <li><a href="{e(a["path"])}">{e(a["title"])}</a> '
                     f'<time>{a["published"][:10]}</time></li>' for a in site.data["articles"])
    body = f'<main class="content">\n  <h1>Новости</h1>\n  <ul>\n{rows}\n  </ul>\n</main>'
    return html_blob(_layout(site, "Новости", "ru", body))


def route(site: News, base: str, path: str) -> Blob | None:
    if path == f"{PREFIX}/feed.rss":
        return render_feed(site, base)
    if path in (PREFIX, PREFIX + "/"):
        return render_index(site)
    if path.startswith(PREFIX + "/") and path.endswith(".html"):
        return render_article(site, path)
    return None
