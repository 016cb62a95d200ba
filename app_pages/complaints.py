import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.filters import Filters


@st.cache_data(ttl=common.TTL, max_entries=8, show_spinner="Reading complaint clusters…")
def load(path: str, key: tuple) -> list[dict]:
    with store.open_db(path) as db:
        return views.complaints(db, Filters.from_key(key))


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner=False)
def cluster_posts(path: str, cluster_id: str) -> list[dict]:
    with store.open_db(path) as db:
        return views.cluster_posts(db, cluster_id)


st.title("Complaints")
filters = common.global_filters(keep=("cluster",))
if common.no_data(common.EMPTY_STORE):
    st.stop()
clusters = load(common.db_path(), filters.key())
if not clusters:
    st.info("No complaint clusters yet. Run `otklik tag` (it keeps embeddings of negative "
            "posts), then `otklik analyze` to group complaints.")
    st.stop()

st.caption("Groups of similar complaints. Trend: posts per week, last 12 weeks.")
st.dataframe(
    [{**{k: c[k] for k in ("label", "size", "in_period", "trend", "languages")},
      "products": ", ".join(common.name_of(p) for p in c["products"].split(", ") if p),
      "touchpoints": ", ".join(common.name_of(t) for t in c["touchpoints"].split(", ") if t),
      "words": c["terms"]} for c in clusters],
    hide_index=True, width="stretch",
    column_config={"trend": st.column_config.LineChartColumn("trend (posts / week)"),
                   "in_period": "in period"})

ids = [c["id"] for c in clusters]
labels = {c["id"]: f"{c['label']} ({c['size']})" for c in clusters}
common.page_param("cluster", "complaints_cluster", None, options=[None, *ids])
chosen = st.selectbox("Open a cluster", ids, key="complaints_cluster", format_func=labels.get,
                      placeholder="Choose a cluster…")
common.sync_url(filters, {"cluster": chosen})
if chosen:
    st.subheader(common.safe(labels[chosen]))
    posts = cluster_posts(common.db_path(), chosen)
    if not posts:
        st.info("This cluster has no stored posts left (they may have been erased).")
    for post in posts:
        with st.container(border=True):
            if post.get("representative"):
                st.caption("representative post")
            common.show_post({**post, "id": post["mention_id"],
                              "published_at": common.when(post.get("published_at"))})
