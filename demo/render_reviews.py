"""The demo's review site: product pages with schema.org JSON-LD, newest reviews first.

Routes under ``/reviews``: ``/`` (the products), ``/{slug}.html[?page=N]`` (ten reviews a
page, ``<link rel="next">`` and ``<a rel="next">`` to the next one; a Product with its
``aggregateRating`` and ``review`` list in an ``@graph``) and ``/review/{id}`` (one review,
a standalone ``Review`` with ``itemReviewed``). Each review names itself by ``url``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from math import ceil

from demo.render_common import Blob, e, html_blob, text_html

PREFIX = "/reviews"
PER_PAGE = 10


@dataclass
class Reviews:
    """``reviews.json`` with lookups."""

    data: dict

    def __post_init__(self):
        self.products = {p["slug"]: p for p in self.data["products"]}
        self.reviews = {r["id"]: (p, r) for p in self.data["products"] for r in p["reviews"]}


def aggregate(product: dict) -> dict:
    ratings = [r["rating"] for r in product["reviews"]]
    return {"@type": "AggregateRating",
            "ratingValue": f"{sum(ratings) / len(ratings):.1f}" if ratings else "0",
            "bestRating": "5", "worstRating": "1", "reviewCount": str(len(ratings))}


def review_ld(base: str, review: dict) -> dict:
    data = {
        "@type": "Review", "@id": f"{base}{PREFIX}/review/{review['id']}",
        "url": f"{base}{PREFIX}/review/{review['id']}",
        "author": {"@type": "Person", "name": review["author"],
                   "url": f"{base}{PREFIX}/users/{review['author_slug']}"},
        "datePublished": review["published"], "reviewBody": review["body"],
        "reviewRating": {"@type": "Rating", "ratingValue": review["rating"],
                         "bestRating": 5, "worstRating": 1},
    }
    if review.get("title"):
        data["name"] = review["title"]
    return data


def _layout(site: Reviews, title: str, head: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
  <meta charset="utf-8">
  <title>{e(title)} | {e(site.data['site'])}</title>
{head}
</head>
<body>
<header><a href="{PREFIX}/">{e(site.data['site'])}</a>
  <form action="{PREFIX}/search"><input name="q" placeholder="Поиск"></form></header>
<main>
{body}
</main>
<footer>© {e(site.data['site'])} — a fictional review site bundled with Otklik</footer>
</body>
</html>
"""


def _card(review: dict) -> str:
    stars = "★" * review["rating"] + "☆" * (5 - review["rating"])
    heading = f"\n      <h3>{e(review['title'])}</h3>" if review.get("title") else ""
    return f"""    <div class="review-card" id="review-{review['id']}">
      <div class="review-card__head">
        <a class="author" href="{PREFIX}/users/{e(review['author_slug'])}">{e(review['author'])}</a>
        <span class="date">{review['published'][:10]}</span>
        <span class="stars" title="{review['rating']}/5">{stars}</span></div>{heading}
      <div class="review-card__text">{text_html(review['body'])}</div>
      <div class="review-card__actions"><a href="{PREFIX}/review/{review['id']}">Ссылка</a>
        <a href="#">Полезно</a></div>
    </div>"""


def render_product(site: Reviews, base: str, slug: str, page: int) -> Blob | None:
    product = site.products.get(slug)
    if product is None:
        return None
    pages = max(1, ceil(len(product["reviews"]) / PER_PAGE))
    page = min(max(page, 1), pages)
    shown = product["reviews"][(page - 1) * PER_PAGE:page * PER_PAGE]
    url = f"{base}{PREFIX}/{slug}.html"
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "@id": f"{url}#webpage", "name": f"{product['name']} — отзывы"},
        {"@type": "Product", "@id": f"{url}#product", "name": product["name"],
         "description": product["description"],
         "brand": {"@type": "Brand", "name": product["brand"]},
         "aggregateRating": aggregate(product),
         "review": [review_ld(base, r) for r in shown]},
    ]}
    links = []
    if page > 1:
        prev = f"{slug}.html" + (f"?page={page - 1}" if page > 2 else "")
        links.append(f'  <link rel="prev" href="{prev}">')
    if page < pages:
        links.append(f'  <link rel="next" href="{slug}.html?page={page + 1}">')
    ld = json.dumps(graph, ensure_ascii=False, indent=1).replace("</", "<\\/")
    head = "\n".join(links) + f'\n  <script type="application/ld+json">\n{ld}\n  </script>'
    pager = [f"<span>Страница {page} из {pages}</span>"]
    if page > 1:
        pager.insert(0, f'<a href="{slug}.html?page={page - 1}" rel="prev">←</a>')
    if page < pages:
        pager.append(f'<a href="{slug}.html?page={page + 1}" rel="next">→</a>')
    rating = aggregate(product)["ratingValue"]
    cards = "\n".join(_card(r) for r in shown)
    body = f"""  <h1>{e(product['name'])} — отзывы</h1>
  <div class="rating-summary">Средняя оценка {rating} из 5 · {len(product['reviews'])} отзывов</div>
  <section class="reviews">
{cards}
  </section>
  <nav class="pager">{' '.join(pager)}</nav>"""
    title = f"{product['name']} — отзывы, страница {page}"
    return html_blob(_layout(site, title, head, body))


def render_review(site: Reviews, base: str, review_id: int) -> Blob | None:
    found = site.reviews.get(review_id)
    if found is None:
        return None
    product, review = found
    data = {"@context": "https://schema.org", **review_ld(base, review),
            "itemReviewed": {"@type": "Product", "name": product["name"]}}
    ld = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
    head = f'  <script type="application/ld+json">\n{ld}\n  </script>'
    body = (f'  <p><a href="{PREFIX}/{product["slug"]}.html">{e(product["name"])}</a></p>\n'
            f'  <section class="reviews">\n{_card(review)}\n  </section>')
    return html_blob(_layout(site, f"Отзыв о {product['name']}", head, body))


def render_index(site: Reviews) -> Blob:
    rows = "\n".join(
        f'    <li><a href="{PREFIX}/{p["slug"]}.html">{e(p["name"])}</a> — '
        f'{aggregate(p)["ratingValue"]} ★, {len(p["reviews"])} отзывов</li>'
        for p in site.data["products"])
    body = f"  <h1>Отзывы о связи и интернете</h1>\n  <ul>\n{rows}\n  </ul>"
    return html_blob(_layout(site, "Отзывы", "", body))


def route(site: Reviews, base: str, path: str, query: dict[str, list[str]]) -> Blob | None:
    if path in (PREFIX, PREFIX + "/"):
        return render_index(site)
    match = re.fullmatch(rf"{PREFIX}/([\w-]+)\.html", path)
    if match:
        try:
            page = int((query.get("page") or ["1"])[0])
        except ValueError:
            page = 1
        return render_product(site, base, match.group(1), page)
    match = re.fullmatch(rf"{PREFIX}/review/(\d+)", path)
    if match:
        return render_review(site, base, int(match.group(1)))
    return None
