import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.filters import Filters


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Reading questions…")
def load(path: str, key: tuple, slow_hours: float) -> list[dict]:
    with store.open_db(path) as db:
        return views.questions(db, Filters.from_key(key), common.catalogue(), slow_hours)


st.title("Community questions")
filters = common.global_filters(keep=("slow",))
if common.no_data(common.EMPTY_STORE):
    st.stop()
common.page_param("slow", "questions_slow", 24, cast=int)
slow = st.number_input("Slow after (hours)", min_value=1, max_value=24 * 14, step=1,
                       key="questions_slow",
                       help="A first answer later than this counts as slow.")
common.sync_url(filters, {"slow": slow})
rows = load(common.db_path(), filters.key(), float(slow))
st.caption("Questions asked in the period and whether another customer or the brand "
           "answered, and how fast. Brand and language filters do not apply here.")
if not rows:
    st.info("No questions asked in this period. Questions are found by `otklik tag` "
            "(question intent); widen the period in the sidebar.")
    st.stop()

counts = {status: sum(r["status"] == status for r in rows)
          for status in ("unanswered", "slow", "answered")}
answered_hours = [r["hours_to_answer"] for r in rows if r["hours_to_answer"] is not None]
columns = st.columns(5)
columns[0].metric("Asked", len(rows), border=True)
columns[1].metric("Unanswered", counts["unanswered"], border=True)
columns[2].metric(f"Slow (> {slow} h)", counts["slow"], border=True)
columns[3].metric("Answered by the brand", sum(bool(r["by_brand"]) for r in rows),
                  border=True)
columns[4].metric("Median hours to answer",
                  f"{pd.Series(answered_hours).median():.1f}" if answered_hours else "–",
                  border=True)

frame = pd.DataFrame([{
    "status": r["status"], "asked": common.when(r["asked_at"]), "author": r["author"],
    "source": r["source"], "hours": r["hours"], "answered by": r["answered_by"],
    "by brand": r["by_brand"], "question": r["text"], "link": common.safe_url(r["url"]),
} for r in rows])
config = {"link": st.column_config.LinkColumn("link", display_text="open"),
          "hours": st.column_config.NumberColumn("hours waited / to answer", format="%.1f")}
for status, title in (("unanswered", "Unanswered"), ("slow", "Answered slowly")):
    part = frame[frame["status"] == status]
    st.subheader(f"{title} ({len(part)})")
    if part.empty:
        st.caption("None in this period.")
    else:
        st.dataframe(part.drop(columns=["status"]), hide_index=True,
                     width="stretch", column_config=config)
with st.expander(f"Answered in time ({counts['answered']})"):
    st.dataframe(frame[frame["status"] == "answered"].drop(columns=["status"]),
                 hide_index=True, width="stretch", column_config=config)
