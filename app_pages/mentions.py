import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.evidence import safe_url
from dashboard.filters import Filters
from store import touchpoint_models

SENTIMENTS = ("negative", "neutral", "positive")
LIMIT = 50
REVIEW_BATCH = 10


@st.cache_data(ttl=common.TTL, max_entries=32, show_spinner="Searching…")
def load(path: str, key: tuple, text: str, product: str | None, touchpoint: str | None,
         sentiment: str | None) -> dict:
    with store.open_db(path) as db:
        return views.mentions(db, Filters.from_key(key), text=text, product=product,
                              touchpoint=touchpoint, sentiment=sentiment, limit=LIMIT)


def save_correction(mention_id: str) -> None:
    field = st.session_state[f"fix-field-{mention_id}"]
    value = st.session_state.get(f"fix-{field}-{mention_id}")
    note = st.session_state.get(f"fix-note-{mention_id}") or None
    if not value:
        st.session_state["mentions_notice"] = ("warning", "Choose the right value first.")
        return
    try:
        with store.open_db(common.db_path()) as db:
            store.add_correction(db, mention_id, field, value, note)
    except store.StoreError as error:
        st.session_state["mentions_notice"] = ("warning", str(error))
        return
    common.clear_caches()
    model = "sentiment adapter" if field == "sentiment" else "touchpoint model"
    st.session_state["mentions_notice"] = (
        "success", f"Saved: {field} set to {value} by you. Human labels win over the model's, "
        f"and the next `otklik tag` refits this store's {model} on them.")


def correction_form(post: dict, touchpoints: list[str]) -> None:
    mention_id = post["id"]
    with st.expander("Correct a tag"):
        field = st.radio("Tag", ["sentiment", "touchpoint"], horizontal=True,
                         key=f"fix-field-{mention_id}")
        if field == "sentiment":
            st.selectbox("Right sentiment", SENTIMENTS, index=None,
                         key=f"fix-sentiment-{mention_id}")
        else:
            st.selectbox("Right touchpoint", touchpoints, index=None,
                         key=f"fix-touchpoint-{mention_id}", format_func=common.name_of)
        st.text_input("Note (optional)", key=f"fix-note-{mention_id}")
        st.button("Save correction", key=f"fix-save-{mention_id}", on_click=save_correction,
                  args=(mention_id,))


@st.cache_data(ttl=common.TTL, max_entries=8, show_spinner=False)
def review_items(path: str, touchpoint: str | None) -> list[dict]:
    with store.open_db(path) as db:
        return touchpoint_models.review_queue(db, touchpoint, limit=REVIEW_BATCH)


def save_review(item: dict, answer: str) -> None:
    with store.open_db(common.db_path()) as db:
        store.add_correction(db, item["mention_id"], "touchpoint", answer,
                             note="review queue", sentence=item["sentence"])
    common.clear_caches()
    st.session_state["mentions_notice"] = (
        "success", "Saved. The next `otklik tag` refits the touchpoint model on your labels.")


def review_queue(touchpoints: list[str]) -> None:
    """Sentences the touchpoint model is least sure of: each label teaches it most."""
    chosen = st.selectbox("Touchpoint to review", [common.ALL, *touchpoints],
                          key="review_touchpoint",
                          format_func=lambda t: common.name_of(t) if t else "Every touchpoint")
    items = review_items(common.db_path(), chosen or None)
    if not items:
        st.caption("Nothing to review: run `otklik tag` (or `otklik fit-touchpoints`) to "
                   "queue the sentences the model is least sure of.")
        return
    for n, item in enumerate(items):
        st.markdown(f"> {common.safe(item['text'])}")
        asked = item["touchpoint"]
        yes, other, none = st.columns([2, 3, 2])
        yes.button(f"Yes: {common.name_of(asked)}", key=f"review-yes-{n}",
                   on_click=save_review, args=(item, asked))
        right = other.selectbox("Another touchpoint", [t for t in touchpoints if t != asked],
                                index=None, key=f"review-other-{n}",
                                format_func=common.name_of, label_visibility="collapsed",
                                placeholder="Another touchpoint…")
        if right:
            save_review(item, right)
            st.rerun()
        none.button("No touchpoint", key=f"review-none-{n}", on_click=save_review,
                    args=(item, "none"))
        link = safe_url(item["url"])
        st.caption(f"model: {item['probability']:.0%} sure it names {common.name_of(asked)}"
                   + (f" · [the post]({link})" if link else ""))


st.title("Mentions")
filters = common.global_filters(keep=("q", "product", "touchpoint", "sentiment"))
if common.no_data(common.EMPTY_STORE):
    st.stop()
catalogue = common.catalogue()
products = [p.id for brand in catalogue.brands if not filters.brand or brand.id == filters.brand
            for p in brand.products]
touchpoints = [t.id for t in catalogue.touchpoints]
for key, options in (("product", products), ("touchpoint", touchpoints),
                     ("sentiment", SENTIMENTS)):
    common.page_param(key, f"mentions_{key}", common.ALL, options=[common.ALL, *options])
common.page_param("q", "mentions_q", "")

text = st.text_input("Search (Cyrillic or Latin; \"quotes\" keep a phrase)", key="mentions_q",
                     placeholder="e.g. роуминг, Volna Home, \"не работает\"")
left, middle, right = st.columns(3)
product = left.selectbox("Product", [common.ALL, *products], key="mentions_product",
                         format_func=lambda p: common.name_of(p) if p else "All products"
                         ) or None
touchpoint = middle.selectbox("Touchpoint", [common.ALL, *touchpoints],
                              key="mentions_touchpoint",
                              format_func=lambda t: common.name_of(t) if t else "All touchpoints"
                              ) or None
sentiment = right.selectbox("Sentiment", [common.ALL, *SENTIMENTS], key="mentions_sentiment",
                            format_func=lambda s: s or "Any sentiment") or None
common.sync_url(filters, {"q": text, "product": product, "touchpoint": touchpoint,
                          "sentiment": sentiment})
if notice := st.session_state.pop("mentions_notice", None):
    getattr(st, notice[0])(common.safe(notice[1]))
with st.expander("Review these: teach the touchpoint model"):
    review_queue(touchpoints)

page = load(common.db_path(), filters.key(), text.strip(), product, touchpoint, sentiment)
posts = page["posts"]
shown = f"showing the newest {len(posts)}" if page["total"] > len(posts) else "all shown"
st.caption(f"{page['total']} mention{'' if page['total'] == 1 else 's'} · {shown} · "
           f"{filters.describe()}")
if not posts:
    if text.strip():
        st.info("Nothing matches. Try fewer words, another spelling (Latin or Cyrillic), "
                "or widen the period and filters in the sidebar.")
    else:
        st.info("No tagged brand mention in this period for these filters. Type words to "
                "search every stored post, or widen the period in the sidebar.")
    st.stop()
for post in posts:
    with st.container(border=True):
        common.show_post({**post, "published_at": common.when(post["published_at"])})
        if post.get("evidence"):
            with st.expander("Why these tags"):
                common.why(post)
        correction_form(post, touchpoints)
