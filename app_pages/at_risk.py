import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.filters import Filters
from dashboard.tables import flatten_for_export
from insights.exports import EXPORTS
from store.insights import RISK_STATUSES, set_risk_status

DAYS = 30  # "recent" for the queue, as in insights.report.at_risk


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Building the queue…")
def load(path: str, key: tuple) -> list[dict]:
    with store.open_db(path) as db:
        return views.at_risk(db, Filters.from_key(key), common.catalogue(), DAYS)


def save_status(author_id: str, handle: str) -> None:
    status = st.session_state[f"risk-status-{author_id}"]
    note = st.session_state.get(f"risk-note-{author_id}") or None
    with store.open_db(common.db_path()) as db:
        set_risk_status(db, author_id, status, note)
    common.clear_caches()
    st.session_state["risk_notice"] = f"{handle}: {status}."


st.title("Customers at risk")
filters = common.global_filters(keep=("status",))
if common.no_data(common.EMPTY_STORE):
    st.stop()
st.caption(f"People with negative posts or churn intent about an own brand in the "
           f"{DAYS} days up to {filters.end}, most urgent first.")
queue = load(common.db_path(), filters.key())
if notice := st.session_state.pop("risk_notice", None):
    st.success(common.safe(f"Status saved: {notice}"))
if not queue:
    st.info(f"Nobody is at risk in the {DAYS} days up to {filters.end} for these filters. "
            "The queue fills from negative tagged posts (run `otklik tag`); move the period "
            "end in the sidebar to look back.")
    st.stop()

counts = {status: sum(row["status"] == status for row in queue) for status in RISK_STATUSES}
columns = st.columns(4)
columns[0].metric("In the queue", len(queue), border=True)
for column, status in zip(columns[1:], RISK_STATUSES, strict=True):
    column.metric(status.capitalize(), counts[status], border=True)

common.page_param("status", "risk_statuses", ["new", "contacted"],
                  cast=lambda raw: [s for s in raw.split(",") if s in RISK_STATUSES])
shown_statuses = st.multiselect("Show", list(RISK_STATUSES), key="risk_statuses")
common.sync_url(filters, {"status": ",".join(shown_statuses)})
shown = [row for row in queue if row["status"] in shown_statuses]

table = pd.DataFrame([{
    "priority": row["priority"], "handle": row.get("handle"), "source": row.get("source"),
    "brand": common.name_of(row["brand"]), "status": row["status"],
    "negatives": row["negatives"],
    "touchpoints": ", ".join(common.name_of(t) for t in row["touchpoints"]),
    "churn": row["churn"], "answered": row["answered"], "last post": row["last_at"],
    "profile": common.safe_url(row.get("profile_url")),
} for row in shown])
if table.empty:
    st.info("Nobody with these statuses.")
else:
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "profile": st.column_config.LinkColumn("profile", display_text="open"),
        "priority": st.column_config.NumberColumn(format="%.2f")})

export = flatten_for_export(shown)
common.download_buttons(export, EXPORTS["at-risk"], "at-risk", filters)

st.subheader("Follow up")
for row in shown[:50]:
    handle = row.get("handle") or row["author_id"]
    title = (f"{handle} · {common.name_of(row['brand'])} · {row['negatives']} negative · "
             f"{row['status']}" + (" · churn intent" if row["churn"] else ""))
    with st.expander(common.safe(title)):
        if row["touchpoints"]:
            st.caption(common.safe("Failed at: " + ", ".join(
                common.name_of(t) for t in row["touchpoints"])))
        for post in row["posts"]:
            st.text(f"{common.when(post['published_at'])}\n{post['text']}")
            if url := common.safe_url(post["url"]):
                st.link_button("Open the original ↗", url)
        author = row["author_id"]
        if f"risk-status-{author}" not in st.session_state:
            st.session_state[f"risk-status-{author}"] = row["status"]
        left, middle, right = st.columns([1, 2, 1])
        left.selectbox("Status", list(RISK_STATUSES), key=f"risk-status-{author}")
        middle.text_input("Note", key=f"risk-note-{author}",
                          placeholder="e.g. called, offered a refund")
        right.button("Save", key=f"risk-save-{author}", on_click=save_status,
                     args=(author, handle))
if len(shown) > 50:
    st.caption(f"{len(shown) - 50} more in the export.")
