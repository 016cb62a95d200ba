"""The demo's Discourse forum: its public JSON API over ``community.json``.

Routes under the ``/community`` prefix (a subfolder install, as Discourse supports):
``/latest.json[?page=N]``, ``/c/{slug}/{id}.json`` and ``/c/{slug}/{id}/l/latest.json
[?page=N]``, ``/t/{id}.json`` (also ``/t/{slug}/{id}.json``), ``/t/{id}/posts.json?post_ids[]=…``
and ``/search.json?q=…[&page=N]``. Listings hold 30 topics sorted by ``bumped_at``, a topic
its first 20 posts and the ids of all (``post_stream.stream``), as Discourse serves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from demo.render_common import Blob, json_blob, not_found

PREFIX = "/community"
PER_PAGE = 30
CHUNK = 20
SEARCH_PER_PAGE = 20


@dataclass
class Community:
    """``community.json`` with lookups."""

    data: dict

    def __post_init__(self):
        self.topics = {t["id"]: t for t in self.data["topics"]}
        self.users = {u["username"]: u for u in self.data["users"]}
        self.categories = {c["id"]: c for c in self.data["categories"]}
        self.posts = {p["id"]: (t, p) for t in self.data["topics"] for p in t["posts"]}

    def listed(self, category_id: int | None = None) -> list[dict]:
        """Topics as ``/latest`` lists them: most recently bumped first."""
        topics = [t for t in self.data["topics"]
                  if category_id is None or t["category_id"] == category_id]
        return sorted(topics, key=lambda t: (t["posts"][-1]["created_at"], t["id"]),
                      reverse=True)


def avatar(username: str, user_id: int) -> str:
    return f"/user_avatar/community/{username}/{{size}}/{user_id}_2.png"


def post_json(site: Community, topic: dict, post: dict) -> dict:
    """A post as ``/t/{id}.json`` serialises it for a visitor."""
    user = site.users[post["username"]]
    reply_to = post["reply_to_post_number"]
    data = {
        "id": post["id"], "name": user["name"], "username": user["username"],
        "avatar_template": avatar(user["username"], user["id"]),
        "created_at": post["created_at"], "cooked": post["cooked"],
        "post_number": post["post_number"], "post_type": 1,
        "updated_at": post["updated_at"], "reply_count": sum(
            1 for other in topic["posts"] if other["reply_to_post_number"] == post["post_number"]),
        "reply_to_post_number": reply_to, "quote_count": post["cooked"].count(
            '<aside class="quote'),
        "incoming_link_count": 0, "reads": 10 + post["id"] % 40, "score": 1.0,
        "yours": False, "topic_id": topic["id"], "topic_slug": topic["slug"],
        "display_username": user["name"], "primary_group_name": "volna_team"
        if user["staff"] else None, "version": post["version"], "can_edit": False,
        "can_delete": False, "can_recover": False, "can_wiki": False,
        "user_title": "Команда Волны" if user["staff"] else None, "bookmarked": False,
        "actions_summary": [{"id": 2, "count": post["like_count"]}] if post["like_count"]
        else [],
        "moderator": user["staff"], "admin": False, "staff": user["staff"],
        "user_id": user["id"], "hidden": False, "trust_level": user["trust_level"],
        "deleted_at": None, "user_deleted": False, "edit_reason": None,
        "can_view_edit_history": True, "wiki": False,
        "post_url": f"{PREFIX}/t/{topic['slug']}/{topic['id']}/{post['post_number']}",
    }
    if reply_to:
        target = next(p for p in topic["posts"] if p["post_number"] == reply_to)
        author = site.users[target["username"]]
        data["reply_to_user"] = {"username": author["username"], "name": author["name"],
                                 "avatar_template": avatar(author["username"], author["id"])}
    return data


def listing_entry(site: Community, topic: dict) -> dict:
    posts = topic["posts"]
    first, last = site.users[posts[0]["username"]], site.users[posts[-1]["username"]]
    posters = [{"extras": "latest" if u is last else None,
                "description": "Original Poster" if u is first else "Most Recent Poster",
                "user_id": u["id"], "primary_group_id": None}
               for u in ([first, last] if first is not last else [first])]
    return {
        "id": topic["id"], "title": topic["title"], "fancy_title": topic["title"],
        "slug": topic["slug"], "posts_count": len(posts), "reply_count": len(posts) - 1,
        "highest_post_number": posts[-1]["post_number"], "image_url": None,
        "created_at": posts[0]["created_at"], "last_posted_at": posts[-1]["created_at"],
        "bumped": True, "bumped_at": posts[-1]["created_at"], "archetype": "regular",
        "unseen": False, "pinned": False, "unpinned": None, "visible": True, "closed": False,
        "archived": False, "bookmarked": None, "liked": None, "tags": [],
        "views": topic["views"], "like_count": sum(p["like_count"] for p in posts),
        "has_summary": False, "last_poster_username": last["username"],
        "category_id": topic["category_id"], "pinned_globally": False, "featured_link": None,
        "posters": posters,
    }


def listing(site: Community, topics: list[dict], page: int, more: str) -> Blob:
    chunk = topics[page * PER_PAGE:(page + 1) * PER_PAGE]
    users = {}
    for topic in chunk:
        for post in (topic["posts"][0], topic["posts"][-1]):
            user = site.users[post["username"]]
            users[user["username"]] = {"id": user["id"], "username": user["username"],
                                       "name": user["name"],
                                       "avatar_template": avatar(user["username"], user["id"]),
                                       "trust_level": user["trust_level"]}
    topic_list = {"can_create_topic": False, "per_page": PER_PAGE, "top_tags": [],
                  "topics": [listing_entry(site, t) for t in chunk]}
    if (page + 1) * PER_PAGE < len(topics):
        topic_list["more_topics_url"] = f"{more}?page={page + 1}"
    return json_blob({"users": list(users.values()), "primary_groups": [],
                      "flair_groups": [], "topic_list": topic_list})


def topic_json(site: Community, topic: dict) -> Blob:
    posts = topic["posts"]
    participants = {}
    for post in posts:
        user = site.users[post["username"]]
        entry = participants.setdefault(user["username"], {
            "id": user["id"], "username": user["username"], "name": user["name"],
            "avatar_template": avatar(user["username"], user["id"]), "post_count": 0})
        entry["post_count"] += 1
    first, last = site.users[posts[0]["username"]], site.users[posts[-1]["username"]]
    return json_blob({
        "post_stream": {"posts": [post_json(site, topic, p) for p in posts[:CHUNK]],
                        "stream": [p["id"] for p in posts]},
        "timeline_lookup": [[1, 0]], "suggested_topics": [], "tags": [],
        "id": topic["id"], "title": topic["title"], "fancy_title": topic["title"],
        "posts_count": len(posts), "created_at": posts[0]["created_at"],
        "views": topic["views"], "reply_count": len(posts) - 1,
        "like_count": sum(p["like_count"] for p in posts),
        "last_posted_at": posts[-1]["created_at"], "visible": True, "closed": False,
        "archived": False, "archetype": "regular", "slug": topic["slug"],
        "category_id": topic["category_id"], "word_count": 30 * len(posts),
        "deleted_at": None, "user_id": first["id"], "pinned": False,
        "highest_post_number": posts[-1]["post_number"], "chunk_size": CHUNK,
        "participant_count": len(participants),
        "details": {"can_edit": False, "notification_level": 1,
                    "participants": list(participants.values())[:24],
                    "created_by": {"id": first["id"], "username": first["username"],
                                   "name": first["name"]},
                    "last_poster": {"id": last["id"], "username": last["username"],
                                    "name": last["name"]}},
    })


def search(site: Community, query: str, page: int) -> Blob:
    """A plain case-insensitive search over titles and posts (newest topics first)."""
    terms = query.casefold().split()
    found = []
    for topic in site.listed():
        hit = next((p for p in topic["posts"] if all(
            term in (topic["title"] + " " + p["cooked"]).casefold() for term in terms)), None)
        if hit is not None and terms:
            found.append((topic, hit))
    chunk = found[(page - 1) * SEARCH_PER_PAGE:page * SEARCH_PER_PAGE]
    posts = [{"id": p["id"], "username": p["username"], "created_at": p["created_at"],
              "like_count": p["like_count"], "post_number": p["post_number"],
              "blurb": re.sub(r"<[^>]+>", "", p["cooked"])[:200], "topic_id": t["id"]}
             for t, p in chunk]
    return json_blob({
        "posts": posts, "topics": [listing_entry(site, t) for t, _ in chunk], "users": [],
        "categories": [], "tags": [], "groups": [],
        "grouped_search_result": {"term": query, "more_full_page_results":
                                  page * SEARCH_PER_PAGE < len(found) or None,
                                  "post_ids": [p["id"] for p in posts]},
    })


def _page(query: dict) -> int:
    try:
        return max(0, int((query.get("page") or ["0"])[0]))
    except ValueError:
        return 0


def route(site: Community, path: str, query: dict[str, list[str]]) -> Blob | None:
    """The response for a path under ``/community`` (``None`` when it is not one of ours)."""
    if not path.startswith(PREFIX + "/"):
        return None
    rest = path[len(PREFIX):]
    if rest == "/latest.json":
        return listing(site, site.listed(), _page(query), f"{PREFIX}/latest")
    match = re.fullmatch(r"/c/([\w-]+)/(\d+)(?:/l/latest)?\.json", rest)
    if match:
        category = site.categories.get(int(match.group(2)))
        if category is None or category["slug"] != match.group(1):
            return json_blob({"errors": ["The requested URL or resource could not be found."],
                              "error_type": "not_found"}, 404)
        more = f"{PREFIX}/c/{category['slug']}/{category['id']}/l/latest"
        return listing(site, site.listed(category["id"]), _page(query), more)
    match = re.fullmatch(r"/t/(?:[\w-]+/)?(\d+)\.json", rest)
    if match:
        topic = site.topics.get(int(match.group(1)))
        return topic_json(site, topic) if topic else json_blob(
            {"errors": ["The requested URL or resource could not be found."]}, 404)
    match = re.fullmatch(r"/t/(\d+)/posts\.json", rest)
    if match:
        topic = site.topics.get(int(match.group(1)))
        ids = [int(v) for v in query.get("post_ids[]", []) if v.isdigit()]
        if topic is None:
            return json_blob({"errors": ["not found"]}, 404)
        posts = [site.posts[i][1] for i in ids
                 if i in site.posts and site.posts[i][0] is topic]
        return json_blob({"post_stream": {"posts": [post_json(site, topic, p) for p in posts]},
                          "id": topic["id"]})
    if rest == "/search.json":
        return search(site, (query.get("q") or [""])[0], max(1, _page(query)))
    if rest in ("/", "/latest"):
        return not_found("This demo Discourse serves its JSON API only (try latest.json).")
    return None
