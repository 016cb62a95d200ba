import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.filters import Filters
from insights.themes import OTHER_THEME

OTHER_TITLE = "Other complaints (small groups unlike any theme)"


@st.cache_data(ttl=common.TTL, max_entries=8, show_spinner="Reading complaint themes…")
def load(path: str, key: tuple) -> list[dict]:
    with store.open_db(path) as db:
        return views.complaints(db, Filters.from_key(key))


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner=False)
def cluster_posts(path: str, cluster_id: str) -> list[dict]:
    with store.open_db(path) as db:
        return views.cluster_posts(db, cluster_id)


def title_of(row: dict) -> str:
    return OTHER_TITLE if row["id"] == OTHER_THEME else row["title"]


def table_row(row: dict, first: str, extra: dict | None = None) -> dict:
    """One theme or sub-theme as the tables show it."""
    return {first: title_of(row), "key phrases": row["terms"],
            **{k: row[k] for k in ("size", "in_period", "trend")}, **(extra or {}),
            "touchpoints": ", ".join(common.name_of(t) for t in row["touchpoints"].split(", ")
                                     if t),
            "products": ", ".join(common.name_of(p) for p in row["products"].split(", ") if p),
            "languages": row["languages"]}


COLUMNS = {"trend": st.column_config.LineChartColumn("trend (posts / week)"),
           "in_period": "in period", "size": "posts"}

st.title("Complaints")
filters = common.global_filters(keep=("cluster",))
if common.no_data(common.EMPTY_STORE):
    st.stop()
rows = load(common.db_path(), filters.key())
if not rows:
    st.info("No complaint clusters yet. Run `otklik tag` (it keeps embeddings of negative "
            "posts), then `otklik analyze` to group complaints.")
    st.stop()

themes = [r for r in rows if not r["parent_id"]]
themes.sort(key=lambda r: (r["id"] == OTHER_THEME, -r["size"], r["title"]))
sub_themes = {t["id"]: [r for r in rows if r["parent_id"] == t["id"]] for t in themes}
st.caption("Themes of complaints, largest first: each is a group of similar complaints made of "
           "finer sub-themes. A theme's title is a sentence of one of its posts; key phrases "
           "are its distinctive words. Trend: posts per week, last 12 weeks.")
st.dataframe([table_row(t, "theme", {"sub-themes": len(sub_themes[t["id"]])}) for t in themes],
             hide_index=True, width="stretch", column_config=COLUMNS)

for theme in themes:
    subs = sub_themes[theme["id"]]
    if len(subs) < 2:
        continue
    with st.expander(common.safe(f"{title_of(theme)} — {len(subs)} sub-themes")):
        st.dataframe([table_row(s, "sub-theme") for s in subs], hide_index=True,
                     width="stretch", column_config=COLUMNS)

ids, labels = [], {}
for theme in themes:
    for row, indent in [(theme, ""), *((s, "↳ ") for s in sub_themes[theme["id"]])]:
        ids.append(row["id"])
        labels[row["id"]] = f"{indent}{title_of(row)} ({row['size']})"
common.page_param("cluster", "complaints_cluster", None, options=[None, *ids])
chosen = st.selectbox("Open a cluster: a theme or a sub-theme", ids, key="complaints_cluster",
                      format_func=labels.get, placeholder="Choose a theme or sub-theme…")
common.sync_url(filters, {"cluster": chosen})
if chosen:
    row = next(r for r in rows if r["id"] == chosen)
    st.subheader(common.safe(title_of(row)))
    if row["terms"]:
        st.caption("key phrases: " + common.safe(row["terms"]))
    if row["parent_id"]:
        parent = next((t for t in themes if t["id"] == row["parent_id"]), None)
        if parent:
            st.caption("sub-theme of: " + common.safe(title_of(parent)))
    posts = cluster_posts(common.db_path(), chosen)
    if not posts:
        st.info("This cluster has no stored posts left (they may have been erased).")
    for post in posts:
        with st.container(border=True):
            if post.get("representative"):
                st.caption("representative post")
            common.show_post({**post, "id": post["mention_id"],
                              "published_at": common.when(post.get("published_at"))})
