"""The sample community as phpBB 3.3 "prosilver" pages: a data model and pure render functions.

No I/O here: ``build_forum`` turns the parsed ``sample_posts.yaml`` into a checked model and the
``render_*`` functions turn it into :class:`Page` objects (HTML text plus its charset). The
markup follows prosilver closely enough that a crawler written for real phpBB boards reads it
unchanged: relative links (``./viewtopic.php?t=9&amp;start=10``), ``div.post`` blocks, a
``<time datetime>`` in ``p.author``, BBCode quotes as ``blockquote > div > cite``, the
``div.notice`` edit notice and ``.pagination`` lists with ``li.arrow.next a[rel=next]``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from math import ceil

POSTS_PER_PAGE = 10
TOPICS_PER_PAGE = 5
GUEST_ID = 1  # phpBB's ANONYMOUS user
CHARSETS = ("UTF-8", "windows-1251")

e = html.escape


# ---------------------------------------------------------------------------------------------
# Interface strings (a guest sees the board's default language)

def _plural_en(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _plural_uk(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        word = one
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = few
    else:
        word = many
    return f"{n} {word}"


_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UK_MONTHS = ("січ", "лют", "бер", "кві", "тра", "чер", "лип", "сер", "вер", "жов", "лис", "гру")


def _date_en(moment: datetime) -> str:
    """phpBB's default ``D M d, Y g:i a``: ``Mon Sep 14, 2026 9:05 am``."""
    hour = moment.hour % 12 or 12
    half = "am" if moment.hour < 12 else "pm"
    return (f"{_EN_WEEKDAYS[moment.weekday()]} {_EN_MONTHS[moment.month - 1]} "
            f"{moment.day:02d}, {moment.year} {hour}:{moment.minute:02d} {half}")


def _date_uk(moment: datetime) -> str:
    """``d M Y, H:i`` with Ukrainian month names: ``14 вер 2026, 09:05``."""
    return f"{moment.day:02d} {_UK_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M}"


STRINGS: dict[str, dict] = {
    "en": {
        "html_lang": "en-gb", "date": _date_en, "board_index": "Board index",
        "by": "by", "wrote": "wrote", "post": "Post", "top": "Top", "forum": "Forum",
        "topics": "Topics", "posts": "Posts", "replies": "Replies", "views": "Views",
        "last_post": "Last post", "go_last": "Go to last post",
        "view_latest": "View the latest post", "next": "Next", "previous": "Previous",
        "page_of": "Page <strong>{}</strong> of <strong>{}</strong>",
        "n_posts": lambda n: _plural_en(n, "post", "posts"),
        "n_topics": lambda n: _plural_en(n, "topic", "topics"),
        "joined": "Joined", "location": "Location", "reason": "Reason",
        "edited": lambda who, when, n: (f"Last edited by {who} on {when}, edited {n} "
                                        f"{'time' if n == 1 else 'times'} in total."),
        "view_quoted": "View quoted post", "return_to": "Return to “{}”",
        "no_unread": "No unread posts", "login": "Login", "register": "Register",
        "information": "Information", "statistics": "Statistics",
    },
    "uk": {
        "html_lang": "uk", "date": _date_uk, "board_index": "Список форумів",
        "by": "від", "wrote": "написав(ла)", "post": "Повідомлення", "top": "Вгору",
        "forum": "Форум", "topics": "Теми", "posts": "Повідомлення", "replies": "Відповіді",
        "views": "Перегляди", "last_post": "Остання публікація",
        "go_last": "Перейти до останньої публікації",
        "view_latest": "Переглянути останню публікацію", "next": "Наступна",
        "previous": "Попередня", "page_of": "Сторінка <strong>{}</strong> з <strong>{}</strong>",
        "n_posts": lambda n: _plural_uk(n, "повідомлення", "повідомлення", "повідомлень"),
        "n_topics": lambda n: _plural_uk(n, "тема", "теми", "тем"),
        "joined": "Зареєстрований", "location": "Звідки", "reason": "Причина",
        "edited": lambda who, when, n: (f"Востаннє редагував(ла) {who} {when}, всього "
                                        f"редагувалось {n} раз."),
        "view_quoted": "Переглянути цитоване повідомлення", "return_to": "Повернутись до “{}”",
        "no_unread": "Немає непрочитаних повідомлень", "login": "Вхід",
        "register": "Реєстрація", "information": "Інформація", "statistics": "Статистика",
    },
}


# ---------------------------------------------------------------------------------------------
# Model

@dataclass(eq=False)
class User:
    """A registered member (``memberlist.php?mode=viewprofile&u=ID``)."""

    id: int
    name: str
    colour: str | None = None
    rank: str | None = None
    joined: datetime | None = None
    location: str | None = None
    signature: str | None = None
    post_count: int = 0


@dataclass(eq=False)
class Quote:
    """A BBCode quote: who is quoted, the quoted post (if it is one on this forum) and text."""

    author: str
    text: str
    post_id: int | None = None
    quotes: list[Quote] = field(default_factory=list)


@dataclass(eq=False)
class Edit:
    """When a post was last edited, how often, and why."""

    time: datetime
    count: int = 1
    reason: str | None = None


@dataclass(eq=False)
class Post:
    """One post; ``text`` is plain text, its quotes come before it."""

    id: int
    author: str
    user_id: int
    time: datetime
    text: str
    quotes: list[Quote] = field(default_factory=list)
    edited: Edit | None = None
    topic: Topic = field(default=None, repr=False)  # type: ignore[assignment]


@dataclass(eq=False)
class Topic:
    """A topic and its posts in the order they were written."""

    id: int
    title: str
    views: int
    posts: list[Post]
    board: Board = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def page_count(self) -> int:
        return max(1, ceil(len(self.posts) / POSTS_PER_PAGE))

    @property
    def replies(self) -> int:
        return len(self.posts) - 1

    @property
    def last_post(self) -> Post:
        return self.posts[-1]

    def page_of(self, post_id: int) -> int:
        """The 1-based page of this topic that shows ``post_id``."""
        for index, post in enumerate(self.posts):
            if post.id == post_id:
                return index // POSTS_PER_PAGE + 1
        raise KeyError(post_id)


@dataclass(eq=False)
class Board:
    """A phpBB forum (``viewforum.php?f=ID``) with its pages' charset and interface language."""

    id: int
    title: str
    description: str
    charset: str
    lang: str
    topics: list[Topic]
    forum: Forum = field(default=None, repr=False)  # type: ignore[assignment]

    @property
    def topics_by_activity(self) -> list[Topic]:
        """Topics as phpBB lists them: most recent last post first."""
        return sorted(self.topics, key=lambda t: (t.last_post.time, t.id), reverse=True)

    @property
    def page_count(self) -> int:
        return max(1, ceil(len(self.topics) / TOPICS_PER_PAGE))

    @property
    def post_count(self) -> int:
        return sum(len(topic.posts) for topic in self.topics)


@dataclass(eq=False)
class Forum:
    """The whole board: boards, users and every post and topic by id."""

    title: str
    description: str
    boards: list[Board]
    users: dict[int, User]
    topics: dict[int, Topic]
    posts: dict[int, Post]

    def board(self, board_id: int) -> Board:
        for board in self.boards:
            if board.id == board_id:
                return board
        raise KeyError(board_id)


@dataclass(frozen=True)
class Page:
    """A rendered page: HTML text, the charset it is sent in, and its HTTP status."""

    html: str
    charset: str = "UTF-8"
    status: int = 200

    @property
    def body(self) -> bytes:
        """The bytes to send; characters the charset lacks become numeric references."""
        return self.html.encode(self.charset, errors="xmlcharrefreplace")

    @property
    def content_type(self) -> str:
        return f"text/html; charset={self.charset}"


# ---------------------------------------------------------------------------------------------
# Building and checking the model

def _time(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return moment.astimezone(UTC)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _quote(data: dict) -> Quote:
    return Quote(author=str(data["author"]), text=str(data["text"]).strip(),
                 post_id=data.get("post_id"),
                 quotes=[_quote(inner) for inner in data.get("quotes") or []])


def build_forum(data: dict) -> Forum:
    """The checked model of ``sample_posts.yaml``; inconsistent data raises ``ValueError``."""
    users: dict[int, User] = {}
    for row in data.get("users") or []:
        user = User(id=int(row["id"]), name=str(row["name"]), colour=row.get("colour"),
                    rank=row.get("rank"), location=row.get("location"),
                    signature=row.get("signature"),
                    joined=_time(row["joined"]) if row.get("joined") else None)
        if user.id in users or user.id == GUEST_ID:
            raise ValueError(f"user id {user.id} is taken")
        users[user.id] = user
    forum = Forum(title=data["forum"]["title"], description=data["forum"]["description"],
                  boards=[], users=users, topics={}, posts={})
    for board_row in data["boards"]:
        board = Board(id=int(board_row["id"]), title=board_row["title"],
                      description=board_row.get("description", ""),
                      charset=board_row.get("charset", "UTF-8"), lang=board_row.get("lang", "en"),
                      topics=[], forum=forum)
        if board.charset not in CHARSETS or board.lang not in STRINGS:
            raise ValueError(f"board {board.id}: charset {board.charset!r}, lang {board.lang!r}")
        if any(other.id == board.id for other in forum.boards):
            raise ValueError(f"board id {board.id} is taken")
        forum.boards.append(board)
        for topic_row in board_row["topics"]:
            topic = Topic(id=int(topic_row["id"]), title=topic_row["title"],
                          views=int(topic_row.get("views", 0)), posts=[], board=board)
            if topic.id in forum.topics:
                raise ValueError(f"topic id {topic.id} is taken")
            forum.topics[topic.id] = topic
            board.topics.append(topic)
            for row in topic_row["posts"]:
                edited = row.get("edited")
                post = Post(id=int(row["id"]), author=str(row["author"]),
                            user_id=int(row["user_id"]), time=_time(row["time"]),
                            text=str(row["text"]).strip(),
                            quotes=[_quote(quote) for quote in row.get("quotes") or []],
                            edited=Edit(time=_time(edited["time"]), count=int(edited["count"]),
                                        reason=edited.get("reason")) if edited else None,
                            topic=topic)
                if post.id in forum.posts:
                    raise ValueError(f"post id {post.id} is taken")
                forum.posts[post.id] = post
                topic.posts.append(post)
            if not topic.posts:
                raise ValueError(f"topic {topic.id} has no posts")
    _check(forum)
    return forum


def _check(forum: Forum) -> None:
    for post in forum.posts.values():
        where = f"post {post.id}"
        if post.user_id != GUEST_ID:
            user = forum.users.get(post.user_id)
            if user is None or user.name != post.author:
                raise ValueError(f"{where}: author {post.author!r} is not user {post.user_id}")
            user.post_count += 1
        if post.edited and (post.edited.time < post.time or post.edited.count < 1):
            raise ValueError(f"{where}: edited before it was written")
        _check_quotes(forum, post, post.quotes, where)
    for topic in forum.topics.values():
        times = [post.time for post in topic.posts]
        if times != sorted(times):
            raise ValueError(f"topic {topic.id}: posts are not in time order")
    by_time = sorted(forum.posts.values(), key=lambda post: post.time)
    if [post.id for post in by_time] != sorted(forum.posts):
        raise ValueError("post ids must grow with time, as phpBB assigns them")


def _check_quotes(forum: Forum, post: Post, quotes: list[Quote], where: str) -> None:
    for quote in quotes:
        if quote.post_id is None:
            continue
        source = forum.posts.get(quote.post_id)
        if source is None or source.author != quote.author:
            raise ValueError(f"{where}: quotes {quote.author!r} in missing post {quote.post_id}")
        if source.time >= post.time or _squash(quote.text) not in _squash(source.text):
            raise ValueError(f"{where}: quoted text is not from post {quote.post_id}")
        _check_quotes(forum, post, quote.quotes, where)


# ---------------------------------------------------------------------------------------------
# URLs (raw; escape them when they go into an attribute)

def board_url(board_id: int, start: int = 0) -> str:
    return f"./viewforum.php?f={board_id}" + (f"&start={start}" if start else "")


def topic_url(topic_id: int, start: int = 0) -> str:
    return f"./viewtopic.php?t={topic_id}" + (f"&start={start}" if start else "")


def post_url(post_id: int) -> str:
    return f"./viewtopic.php?p={post_id}#p{post_id}"


def profile_url(user_id: int) -> str:
    return f"./memberlist.php?mode=viewprofile&u={user_id}"


# ---------------------------------------------------------------------------------------------
# Pieces

_STYLE = """
body{font:13px/1.45 Verdana,Helvetica,Arial,sans-serif;background:#f5f7fa;color:#536482;margin:0}
.wrap{max-width:1100px;margin:0 auto;padding:15px;background:#fff;border:1px solid #e6e9ed}
a{color:#105289;text-decoration:none}h1{color:#fff;margin:0}.headerbar{background:#12a3eb;
padding:10px;border-radius:7px}.headerbar p{color:#fff;margin:4px 0 0}ul{list-style:none;
padding:0}.linklist li{display:inline;margin-right:10px}.crumb+.crumb:before{content:" \\203A "}
.pagination{float:right;text-align:right}.pagination li{display:inline;margin-left:4px}
.action-bar{overflow:hidden;margin:4px 0}.row-item{display:flex;margin:0;padding:6px 0;
border-top:1px solid #fff}.row-item dt{flex:1}.row-item dd{width:110px;margin:0}
.topiclist .pagination{float:none;text-align:left}.bg1{background:#ecf3f7}
.bg2{background:#e1ebf2}.post{padding:8px 10px;margin-bottom:4px;border-radius:7px;
overflow:hidden}.postprofile{float:right;width:190px;margin:0}.postprofile dd{margin:0}
.postbody{margin-right:200px}.postbody h3{margin:0;font-size:1.1em}.author{font-size:.9em}
blockquote{background:#ebeadd;border:1px solid #dbdbce;margin:8px 1px 8px 20px;padding:5px}
blockquote blockquote{background:#fafaf8}cite{display:block;font-weight:bold;font-style:normal}
.notice{font-size:.9em;border-top:1px dashed #ccc;margin-top:8px;padding-top:4px}
.signature{border-top:1px solid #ccc;margin-top:8px;font-size:.9em}.sr-only{display:none}
dfn{display:none}.page-footer{font-size:.9em;margin-top:20px;text-align:center}
""".strip()


def _username(user_id: int, name: str, forum: Forum) -> str:
    """phpBB's ``get_username_string('full', …)``: a profile link, or a span for guests."""
    if user_id == GUEST_ID:
        return f'<span class="username">{e(name)}</span>'
    user = forum.users[user_id]
    href = e(profile_url(user_id))
    if user.colour:
        return (f'<a href="{href}" style="color: #{e(user.colour)};" '
                f'class="username-coloured">{e(name)}</a>')
    return f'<a href="{href}" class="username">{e(name)}</a>'


def _time_tag(moment: datetime, strings: dict) -> str:
    return (f'<time datetime="{moment.isoformat(timespec="seconds")}">'
            f"{e(strings['date'](moment))}</time>")


def _text(text: str) -> str:
    """Plain text as phpBB shows it: escaped, each line break a ``<br>``."""
    return "<br>\n".join(e(line) for line in text.split("\n"))


def _quote_html(quote: Quote, forum: Forum, strings: dict) -> str:
    """A BBCode quote as phpBB 3.3 renders it: ``blockquote > div > cite`` and the text."""
    source = forum.posts.get(quote.post_id) if quote.post_id is not None else None
    if source is None:
        cite = f"{e(quote.author)} {strings['wrote']}:"
    else:
        name = (e(quote.author) if source.user_id == GUEST_ID
                else f'<a href="{e(profile_url(source.user_id))}">{e(quote.author)}</a>')
        cite = (f"{name} {strings['wrote']}: "
                f'<a href="{e(post_url(source.id))}" aria-label="{e(strings["view_quoted"])}" '
                f'data-post-id="{source.id}">↑</a> '
                f'<span class="responsive-hide">{e(strings["date"](source.time))}</span>')
    inner = "".join(_quote_html(nested, forum, strings) for nested in quote.quotes)
    return f"<blockquote><div><cite>{cite}</cite>{inner}{_text(quote.text)}</div></blockquote>"


def _pagination(url, total: int, per_page: int, page: int, label: str, strings: dict) -> str:
    """The ``div.pagination`` of a board or topic: a total, then prosilver's page list."""
    pages = max(1, ceil(total / per_page))
    if pages == 1:
        return (f'<div class="pagination">\n\t\t{label} &bull; '
                f"{strings['page_of'].format(1, 1)}\n\t</div>")
    items = []
    if page > 1:
        items.append(
            f'<li class="arrow previous"><a class="button button-icon-only" '
            f'href="{e(url((page - 2) * per_page))}" rel="prev" role="button">'
            f'<i class="icon fa-chevron-left fa-fw" aria-hidden="true"></i>'
            f'<span class="sr-only">{strings["previous"]}</span></a></li>')
    for number in range(1, pages + 1):
        if number == page:
            items.append(f'<li class="active"><span>{number}</span></li>')
        else:
            items.append(f'<li><a class="button" href="{e(url((number - 1) * per_page))}" '
                         f'role="button">{number}</a></li>')
    if page < pages:
        items.append(
            f'<li class="arrow next"><a class="button button-icon-only" '
            f'href="{e(url(page * per_page))}" rel="next" role="button">'
            f'<i class="icon fa-chevron-right fa-fw" aria-hidden="true"></i>'
            f'<span class="sr-only">{strings["next"]}</span></a></li>')
    lines = "\n\t\t\t".join(items)
    return f'<div class="pagination">\n\t\t{label}\n\t\t<ul>\n\t\t\t{lines}\n\t\t</ul>\n\t</div>'


def _layout(forum: Forum, strings: dict, charset: str, title: str, section: str,
            crumbs: list[tuple[str, str]], body: str) -> str:
    """prosilver's overall header and footer around a page body."""
    crumb_html = "".join(
        f'<span class="crumb"><a href="{e(href)}"><span>{e(name)}</span></a></span>'
        for href, name in [("./index.php", strings["board_index"]), *crumbs])
    page_title = f"{title} - {forum.title}" if title else forum.title
    return f"""<!DOCTYPE html>
<html dir="ltr" lang="{strings['html_lang']}">
<head>
<meta charset="{charset}" />
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{e(page_title)}</title>
<style>{_STYLE}</style>
</head>
<body id="phpbb" class="nojs notouch section-{section} ltr ">
<div id="wrap" class="wrap">
	<a id="top" class="top-anchor" accesskey="t"></a>
	<div id="page-header">
		<div class="headerbar" role="banner">
			<div class="inner">
			<div id="site-description" class="site-description">
				<a id="logo" class="logo" href="./index.php"
					title="{e(strings['board_index'])}"></a>
				<h1>{e(forum.title)}</h1>
				<p>{e(forum.description)}</p>
			</div>
			</div>
		</div>
		<div class="navbar" role="navigation">
			<div class="inner">
			<ul id="nav-main" class="nav-main linklist" role="menubar">
				<li class="rightside"><a href="./ucp.php?mode=login" title="{strings['login']}"
					accesskey="x" role="menuitem"><span>{strings['login']}</span></a></li>
				<li class="rightside"><a href="./ucp.php?mode=register"
					role="menuitem"><span>{strings['register']}</span></a></li>
			</ul>
			<ul id="nav-breadcrumbs" class="nav-breadcrumbs linklist navlinks" role="menubar">
				<li class="breadcrumbs">{crumb_html}</li>
			</ul>
			</div>
		</div>
	</div>
	<div id="page-body" class="page-body" role="main">
{body}
	</div>
	<div id="page-footer" class="page-footer" role="contentinfo">
		<div class="copyright">Powered by phpBB&reg; Forum Software &copy; phpBB Limited<br>
		Sample community bundled with Otklik: every person, company and post here is
		fictional.</div>
	</div>
</div>
</body>
</html>
"""


def _last_post_cell(post: Post, forum: Forum, strings: dict, *, subject: bool) -> str:
    title = f"Re: {post.topic.title}" if post is not post.topic.posts[0] else post.topic.title
    subject_html = (f'<a href="{e(post_url(post.id))}" title="{e(title)}" '
                    f'class="lastsubject">{e(title)}</a> <br />' if subject else "")
    return (f'<dd class="lastpost">\n\t\t\t\t<span><dfn>{strings["last_post"]} </dfn>'
            f"{subject_html}{strings['by']} {_username(post.user_id, post.author, forum)}\n"
            f'\t\t\t\t<a href="{e(post_url(post.id))}" title="{e(strings["go_last"])}">'
            f'<i class="icon fa-external-link-square fa-fw icon-lightgray icon-md" '
            f'aria-hidden="true"></i><span class="sr-only">{strings["view_latest"]}</span></a>'
            f"\n\t\t\t\t<br />{_time_tag(post.time, strings)}</span>\n\t\t\t</dd>")


# ---------------------------------------------------------------------------------------------
# Pages

def render_index(forum: Forum) -> Page:
    """``index.php``: the list of boards with their counts and last posts, then statistics."""
    strings = STRINGS["en"]
    rows = []
    for board in forum.boards:
        last = max((topic.last_post for topic in board.topics), key=lambda post: post.time)
        rows.append(f"""		<li class="row">
			<dl class="row-item forum_read">
				<dt title="{strings['no_unread']}">
					<div class="list-inner">
						<a href="{e(board_url(board.id))}" class="forumtitle">{e(board.title)}</a>
						<br />{e(board.description)}
					</div>
				</dt>
				<dd class="topics">{len(board.topics)} <dfn>{strings['topics']}</dfn></dd>
				<dd class="posts">{board.post_count} <dfn>{strings['posts']}</dfn></dd>
				{_last_post_cell(last, forum, strings, subject=True)}
			</dl>
		</li>""")
    newest = max(forum.users.values(), key=lambda user: user.joined or datetime.min.replace(
        tzinfo=UTC))
    body = f"""	<div class="forabg">
		<div class="inner">
		<ul class="topiclist">
			<li class="header">
				<dl class="row-item">
					<dt><div class="list-inner">{strings['forum']}</div></dt>
					<dd class="topics">{strings['topics']}</dd>
					<dd class="posts">{strings['posts']}</dd>
					<dd class="lastpost"><span>{strings['last_post']}</span></dd>
				</dl>
			</li>
		</ul>
		<ul class="topiclist forums">
{chr(10).join(rows)}
		</ul>
		</div>
	</div>
	<div class="stat-block statistics">
		<h3>{strings['statistics']}</h3>
		<p>Total posts <strong>{len(forum.posts)}</strong> &bull; Total topics
		<strong>{len(forum.topics)}</strong> &bull; Total members
		<strong>{len(forum.users)}</strong> &bull; Our newest member
		<strong>{_username(newest.id, newest.name, forum)}</strong></p>
	</div>"""
    return Page(_layout(forum, strings, "UTF-8", strings["board_index"], "index", [], body))


def render_board(board: Board, page: int = 1) -> Page:
    """``viewforum.php?f=ID&start=…``: one page of topics, most recently active first."""
    if not 1 <= page <= board.page_count:
        raise ValueError(f"board {board.id} has no page {page}")
    forum, strings = board.forum, STRINGS[board.lang]
    first = (page - 1) * TOPICS_PER_PAGE
    rows = []
    for index, topic in enumerate(board.topics_by_activity[first:first + TOPICS_PER_PAGE]):
        starter = topic.posts[0]
        mini = ""
        if topic.page_count > 1:
            links = "".join(f'<li><a class="button" href="{e(topic_url(topic.id, start))}">'
                            f"{start // POSTS_PER_PAGE + 1}</a></li>"
                            for start in range(0, len(topic.posts), POSTS_PER_PAGE))
            mini = (f'\n\t\t\t\t\t\t<div class="pagination">\n\t\t\t\t\t\t\t<span><i class="icon '
                    f'fa-clone fa-fw" aria-hidden="true"></i></span>\n\t\t\t\t\t\t\t<ul>{links}'
                    f"</ul>\n\t\t\t\t\t\t</div>")
        rows.append(f"""		<li class="row {'bg1' if index % 2 == 0 else 'bg2'}">
			<dl class="row-item topic_read">
				<dt title="{strings['no_unread']}">
					<div class="list-inner">
						<a href="{e(topic_url(topic.id))}" class="topictitle">{e(topic.title)}</a>
						<br />
						<div class="topic-poster responsive-hide left-box">
							{strings['by']} {_username(starter.user_id, starter.author, forum)}
							&raquo; {_time_tag(starter.time, strings)}
						</div>{mini}
					</div>
				</dt>
				<dd class="posts">{topic.replies} <dfn>{strings['replies']}</dfn></dd>
				<dd class="views">{topic.views} <dfn>{strings['views']}</dfn></dd>
				{_last_post_cell(topic.last_post, forum, strings, subject=False)}
			</dl>
		</li>""")
    pagination = _pagination(lambda start: board_url(board.id, start), len(board.topics),
                             TOPICS_PER_PAGE, page, strings["n_topics"](len(board.topics)),
                             strings)
    heading = (f'<h2 class="forum-title"><a href="{e(board_url(board.id, first))}">'
               f"{e(board.title)}</a></h2>")
    body = f"""	{heading}
	<div>{e(board.description)}</div>
	<div class="action-bar bar-top">
	{pagination}
	</div>
	<div class="forumbg">
		<div class="inner">
		<ul class="topiclist">
			<li class="header">
				<dl class="row-item">
					<dt><div class="list-inner">{strings['topics']}</div></dt>
					<dd class="posts">{strings['replies']}</dd>
					<dd class="views">{strings['views']}</dd>
					<dd class="lastpost"><span>{strings['last_post']}</span></dd>
				</dl>
			</li>
		</ul>
		<ul class="topiclist topics">
{chr(10).join(rows)}
		</ul>
		</div>
	</div>
	<div class="action-bar bar-bottom">
	{pagination}
	</div>"""
    crumbs = [(board_url(board.id), board.title)]
    return Page(_layout(forum, strings, board.charset, board.title, "viewforum", crumbs, body),
                charset=board.charset)


def _post_html(post: Post, index: int, forum: Forum, strings: dict) -> str:
    topic = post.topic
    user = forum.users.get(post.user_id)
    author = _username(post.user_id, post.author, forum)
    profile = [f'<dt class="{"has-profile-rank" if user and user.rank else "no-profile-rank"} '
               f'no-avatar">\n\t\t\t\t<div class="avatar-container"></div>\n\t\t\t\t'
               f"{author if user else f'<strong>{author}</strong>'}\n\t\t\t</dt>"]
    if user:
        if user.rank:
            profile.append(f'<dd class="profile-rank">{e(user.rank)}</dd>')
        profile.append(f'<dd class="profile-posts"><strong>{strings["posts"]}:</strong> '
                       f"{user.post_count}</dd>")
        if user.joined:
            profile.append(f'<dd class="profile-joined"><strong>{strings["joined"]}:</strong> '
                           f"{e(strings['date'](user.joined))}</dd>")
        if user.location:
            profile.append(f'<dd class="profile-custom-field profile-phpbb_location">'
                           f'<strong>{strings["location"]}:</strong> {e(user.location)}</dd>')
    subject = topic.title if post is topic.posts[0] else f"Re: {topic.title}"
    first_row = ' class="first"' if index == 0 else ""
    heading = f'<h3{first_row}><a href="{e(post_url(post.id))}">{e(subject)}</a></h3>'
    message = "".join(_quote_html(quote, forum, strings) for quote in post.quotes)
    message += _text(post.text)
    extras = ""
    if post.edited:
        editor = _username(post.user_id, post.author, forum)
        reason = (f"<br /><strong>{strings['reason']}:</strong> <em>{e(post.edited.reason)}</em>"
                  if post.edited.reason else "")
        notice = strings["edited"](editor, e(strings["date"](post.edited.time)),
                                   post.edited.count)
        extras += f'\n\t\t\t<div class="notice">\n\t\t\t\t{notice}\n\t\t\t\t{reason}\n\t\t\t</div>'
    if user and user.signature:
        extras += f'\n\t\t\t<div id="sig{post.id}" class="signature">{_text(user.signature)}</div>'
    profile_html = "\n\t\t\t".join(profile)
    return f"""	<div id="p{post.id}" class="post has-profile {'bg2' if index % 2 == 0 else 'bg1'}">
		<div class="inner">
		<dl class="postprofile" id="profile{post.id}">
			{profile_html}
		</dl>
		<div class="postbody">
			<div id="post_content{post.id}">
			{heading}
			<p class="author">
				<a class="unread" href="{e(post_url(post.id))}" title="{strings['post']}">
					<i class="icon fa-file fa-fw icon-lightgray icon-md" aria-hidden="true"></i>
					<span class="sr-only">{strings['post']}</span>
				</a>
				<span class="responsive-hide">{strings['by']} <strong>{author}</strong>
				&raquo; </span>{_time_tag(post.time, strings)}
			</p>
			<div class="content">{message}</div>{extras}
			</div>
		</div>
		<div class="back2top">
			<a href="#top" class="top" title="{strings['top']}">
				<i class="icon fa-chevron-circle-up fa-fw icon-gray" aria-hidden="true"></i>
				<span class="sr-only">{strings['top']}</span>
			</a>
		</div>
		</div>
	</div>
	<hr class="divider" />"""


def render_topic(topic: Topic, page: int = 1) -> Page:
    """``viewtopic.php?t=ID&start=…``: one page of a topic's posts, oldest first."""
    if not 1 <= page <= topic.page_count:
        raise ValueError(f"topic {topic.id} has no page {page}")
    board = topic.board
    forum, strings = board.forum, STRINGS[board.lang]
    first = (page - 1) * POSTS_PER_PAGE
    posts = "\n".join(_post_html(post, index, forum, strings)
                      for index, post in enumerate(topic.posts[first:first + POSTS_PER_PAGE]))
    pagination = _pagination(lambda start: topic_url(topic.id, start), len(topic.posts),
                             POSTS_PER_PAGE, page, strings["n_posts"](len(topic.posts)), strings)
    # One line, no whitespace around the link: "h2.topic-title::text" must find no text node.
    heading = (f'<h2 class="topic-title"><a href="{e(topic_url(topic.id, first))}">'
               f"{e(topic.title)}</a></h2>")
    body = f"""	{heading}
	<div class="action-bar bar-top">
	{pagination}
	</div>
{posts}
	<div class="action-bar bar-bottom">
	{pagination}
	</div>
	<div class="action-bar actions-jump">
		<p class="jumpbox-return">
			<a href="{e(board_url(board.id))}" class="left-box arrow-left" accesskey="r">
				<i class="icon fa-angle-left fa-fw icon-black" aria-hidden="true"></i>
				<span>{e(strings['return_to'].format(board.title))}</span>
			</a>
		</p>
	</div>"""
    crumbs = [(board_url(board.id), board.title)]
    return Page(_layout(forum, strings, board.charset, topic.title, "viewtopic", crumbs, body),
                charset=board.charset)


def render_profile(forum: Forum, user_id: int) -> Page:
    """``memberlist.php?mode=viewprofile&u=ID``: a member's profile; unknown ids raise KeyError."""
    user = forum.users[user_id]
    strings = STRINGS["en"]
    details = [("Username", _username(user.id, user.name, forum))]
    if user.rank:
        details.append(("Rank", e(user.rank)))
    if user.location:
        details.append((strings["location"], e(user.location)))
    stats = []
    if user.joined:
        stats.append((strings["joined"], e(strings["date"](user.joined))))
    stats.append(("Total posts", str(user.post_count)))

    def rows(pairs):
        return "\n\t\t\t\t".join(f"<dt>{name}:</dt> <dd>{value}</dd>" for name, value in pairs)

    body = f"""	<h2 class="memberlist-title">Viewing profile - {e(user.name)}</h2>
	<div class="panel bg1">
		<div class="inner">
			<dl class="left-box details profile-details">
				{rows(details)}
			</dl>
		</div>
	</div>
	<div class="panel bg2">
		<div class="inner">
			<h3>User statistics</h3>
			<dl class="details">
				{rows(stats)}
			</dl>
		</div>
	</div>"""
    return Page(_layout(forum, strings, "UTF-8", f"Viewing profile - {user.name}", "memberlist",
                        [], body))


def render_message(forum: Forum, text: str, status: int = 404) -> Page:
    """phpBB's information box (``The requested topic does not exist.``) with an HTTP status."""
    strings = STRINGS["en"]
    body = f"""	<div class="panel" id="message">
		<div class="inner">
		<h2 class="message-title">{strings['information']}</h2>
		<p>{e(text)}</p>
		</div>
	</div>"""
    return Page(_layout(forum, strings, "UTF-8", strings["information"], "message", [], body),
                status=status)
