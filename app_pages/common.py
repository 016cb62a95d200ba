"""What every page shares: the global filters in the sidebar (kept across pages and in the
URL), the cached reads, and showing a post safely. Not a page itself: ``app.py`` lists the
pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import streamlit as st

import store
from dashboard import data
from dashboard.downloads import MIME, export_bytes, file_name
from dashboard.evidence import (
    escape_markdown,
    hit_spans,
    safe_url,
    segments,
    sentence_spans,
    to_markdown,
)
from dashboard.filters import Filters, from_query, with_changes

TTL = 300  # seconds a query result is reused; "Refresh data" clears it at once
FILTERS = "otklik_filters"
ALL = ""  # the "all" choice of a selectbox (None would show as an empty choice)
WIDGETS = {"dates": "gf_dates", "brand": "gf_brand", "language": "gf_lang",
           "source": "gf_source"}


def db_path() -> str:
    return str(store.default_db_path())


@st.cache_data(ttl=TTL, show_spinner=False)
def catalogue():
    return data.read_catalogue()


def names() -> dict[str, str]:
    return data.display_names(catalogue())


def name_of(value: str | None) -> str:
    return names().get(value, value) if value else "–"


@st.cache_data(ttl=TTL, show_spinner=False)
def summary(path: str) -> dict:
    with store.open_db(path) as db:
        return data.store_summary(db, catalogue())


def clear_caches() -> None:
    """Forget every cached read (after the dashboard writes, or on "Refresh data")."""
    st.cache_data.clear()


# --- global filters ---------------------------------------------------------------------

def _canonical() -> Filters:
    return Filters.from_key(st.session_state[FILTERS])


def _changed() -> None:
    """A filter widget changed: store the new filters (the URL follows on this run)."""
    state = st.session_state
    current = _canonical()
    dates = state.get(WIDGETS["dates"]) or ()
    if isinstance(dates, date):
        dates = (dates, dates)
    start, end = (dates[0], dates[-1]) if len(dates) == 2 else (current.start, current.end)
    changed = with_changes(current, start=start, end=end,
                           brand=state.get(WIDGETS["brand"]) or None,
                           language=state.get(WIDGETS["language"]) or None,
                           source=state.get(WIDGETS["source"]) or None)
    state[FILTERS] = changed.key()


def _url_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def global_filters(keep: tuple[str, ...] = ()) -> Filters:
    """The sidebar filters of every page. They start from the URL (a shared link) and then
    live in the session, so they survive switching pages; the URL is rewritten on every
    run to match (with the page's own parameters named in ``keep``)."""
    path = db_path()
    choices = summary(path)["choices"]
    state = st.session_state
    if FILTERS not in state:
        filters, problems = from_query(_url_params(), choices)
        state[FILTERS] = filters.key()
        state["otklik_filter_problems"] = problems
    filters = _canonical()
    seeds = {WIDGETS["dates"]: (filters.start, filters.end),
             WIDGETS["brand"]: filters.brand or ALL, WIDGETS["language"]: filters.language or ALL,
             WIDGETS["source"]: filters.source or ALL}
    for key, value in seeds.items():
        # The widgets are re-created on every page (their state does not follow a page
        # switch), so they are set from the session's filters on every run; a range being
        # picked (one date so far) is left alone.
        current = state.get(key)
        if not (key == WIDGETS["dates"] and isinstance(current, tuple) and len(current) == 1):
            state[key] = value
    with st.sidebar:
        st.subheader("Filters")
        st.date_input("Period", key=WIDGETS["dates"], on_change=_changed,
                      help="Changes are compared with the period of the same length before.")
        st.selectbox("Brand", [ALL, *_with(choices.brands, filters.brand)],
                     key=WIDGETS["brand"], on_change=_changed,
                     format_func=lambda b: name_of(b) if b else "All own brands")
        st.selectbox("Language", [ALL, *_with(choices.languages, filters.language)],
                     key=WIDGETS["language"], on_change=_changed,
                     format_func=lambda v: v or "All languages")
        st.selectbox("Source", [ALL, *_with(choices.sources, filters.source)],
                     key=WIDGETS["source"], on_change=_changed,
                     format_func=lambda v: v or "All sources")
        if st.button("Refresh data", help="Read the database again now."):
            clear_caches()
        st.caption("The address bar holds these filters: copy it to share this view.")
    for problem in state.pop("otklik_filter_problems", []):
        st.warning(f"Ignored a filter from the link: {problem}.")
    sync_url(filters, {key: st.query_params.get(key) for key in keep})
    return filters


def _with(options: tuple[str, ...], value: str | None) -> list[str]:
    return [*options, value] if value and value not in options else list(options)


def sync_url(filters: Filters, extra: dict | None = None) -> None:
    """Rewrite the query string to the filters plus the page's parameters."""
    wanted = {**filters.to_query(), **{k: str(v) for k, v in (extra or {}).items() if v}}
    current = {key: st.query_params.get(key) for key in st.query_params}
    if wanted != current:
        st.query_params.from_dict(wanted)


def page_param(key: str, widget_key: str, default=None, cast: Callable = str,
               options: list | tuple | None = None):
    """Seed a page widget from the URL once per session (a shared link), then leave it to
    the widget; a value not among ``options`` falls back to ``default``."""
    state = st.session_state
    if options is not None and widget_key in state and state[widget_key] not in options:
        state[widget_key] = default
    if widget_key not in state:
        raw = st.query_params.get(key)
        try:
            value = cast(raw) if raw not in (None, "") else default
        except ValueError:
            value = default
        state[widget_key] = value if options is None or value in options else default


def no_data(message: str) -> bool:
    """Tell what to do next on an empty store; True when the page should stop."""
    if summary(db_path())["has_mentions"]:
        return False
    st.info(message)
    return True


EMPTY_STORE = ("No mentions yet. Run `otklik crawl` (or `otklik demo` for the sample "
               "community), then `otklik tag` and `otklik analyze`.")


# --- showing posts safely ---------------------------------------------------------------

def safe(text: str | None) -> str:
    """Markdown that shows ``text`` literally (nothing in it is markup)."""
    return escape_markdown(str(text or ""))


def post_markdown(text: str, evidence: dict | None) -> str:
    """The post with its evidence sentences and matched words highlighted, escaped."""
    if not evidence:
        return safe(text)
    sentiment = (evidence.get("tags") or {}).get("sentiment") or {}
    sentences = (sentiment.get("evidence") or {}).get("sentences") or []
    spans = sentence_spans(text, sentences) + hit_spans(text, evidence.get("hits") or [])
    return to_markdown(segments(text, spans))


def tag_line(post: dict) -> str:
    """``sentiment negative · language ru · Volna: negative · Billing (negative) …``."""
    parts = []
    rows = post.get("brands") or []
    tags = (post.get("evidence") or {}).get("tags") or {}
    sentiment = rows[0]["sentiment"] if rows else (tags.get("sentiment") or {}).get("value")
    if sentiment:
        parts.append(f"sentiment {sentiment}")
    language = post.get("language") or (tags.get("language") or {}).get("value")
    if language:
        parts.append(f"language {language}")
    for row in rows:
        product = f" ({name_of(row['product'])})" if row.get("product") else ""
        parts.append(f"{name_of(row['brand'])}{product}: {row.get('stance') or 'no stance'}")
    touchpoints = {t: s for row in rows for t, s in row.get("touchpoints") or ()}
    parts += [f"{name_of(t)} ({s or 'no stance'})" for t, s in sorted(touchpoints.items())]
    intents = {i for row in rows for i in row.get("intents") or ()}
    parts += [f"intent {i}" for i in sorted(intents)]
    return " · ".join(parts) or "not tagged yet"


def show_post(post: dict, *, text_key: str = "text") -> None:
    """One post: when, where, who; its text (evidence highlighted, never as markup); its
    tags; a link to the original."""
    header = " · ".join(str(v) for v in (post.get("published_at") or "–", post.get("source"),
                                          post.get("author")) if v)
    st.caption(safe(header))
    if post.get("title"):
        st.markdown(f"**{safe(post['title'])}**")
    st.markdown(post_markdown(post.get(text_key) or "", post.get("evidence")))
    st.caption(safe(tag_line(post)))
    url = safe_url(post.get("url"))
    if url:
        st.link_button("Open the original ↗", url)


def why(post: dict) -> None:
    """The evidence behind the tags, as a table of sentences and matched words."""
    evidence = post.get("evidence")
    if not evidence:
        return
    rows = []
    tags = evidence.get("tags") or {}
    for name, tag in sorted(tags.items()):
        score = tag.get("score")
        rows.append({"what": f"{name}: {tag.get('value')}",
                     "why": "; ".join(s.get("text", "") for s in
                                      (tag.get("evidence") or {}).get("sentences") or [])
                     or ", ".join(map(str, (tag.get("evidence") or {}).get("why") or [])),
                     "score": round(score, 3) if isinstance(score, float) else score,
                     "how": tag.get("model")})
    for hit in evidence.get("hits") or []:
        like = (hit.get("extra") or {}).get("nearest") or []
        resembles = f" · like “{like[0]}”" if like else ""
        rows.append({"what": f"{hit.get('kind')}: {name_of(hit.get('key'))}",
                     "why": hit.get("evidence"), "score": hit.get("confidence"),
                     "how": f"{hit.get('method') or ''}{resembles} · sentence "
                            f"{hit.get('sentiment') or '–'}"})
    for fix in evidence.get("corrections") or []:
        rows.append({"what": f"corrected {fix.get('field')}: {fix.get('new_value')}",
                     "why": fix.get("note") or "", "score": None,
                     "how": f"by a person, {fix.get('created_at')}"})
    st.dataframe(rows, hide_index=True, width="stretch")


def week_label(week: str) -> str:
    start = date.fromisoformat(week)
    return f"{start:%d %b} – {start + timedelta(days=6):%d %b %Y}"


def when(value: str | None) -> str:
    if not value:
        return "–"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def download_buttons(rows: list[dict], columns: list[str], what: str,
                     filters: Filters) -> None:
    """CSV and XLSX downloads of ``rows`` (the list as shown, filters applied)."""
    left, right, _ = st.columns([1, 1, 3])
    for column, fmt in ((left, "csv"), (right, "xlsx")):
        column.download_button(
            f"Download {fmt.upper()}", export_bytes(rows, columns, fmt),
            file_name=file_name(what, fmt, filters.end.isoformat()), mime=MIME[fmt],
            key=f"download-{what}-{fmt}", on_click="ignore", disabled=not rows)
