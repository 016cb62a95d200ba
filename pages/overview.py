import streamlit as st

import store
from insights.queries import counts_by, daily_volume, overview


@st.cache_data(ttl=60)
def load(path: str):
    with store.open_db(path) as db:
        return overview(db), daily_volume(db), counts_by(db, "language")


st.title("Overview")
totals, days, languages = load(str(store.default_db_path()))
if totals["mentions"] == 0:
    st.info("No mentions yet. Run `otklik crawl` (or `otklik demo`), then `otklik tag`.")
    st.stop()
columns = st.columns(4)
columns[0].metric("Mentions", totals["mentions"])
columns[1].metric("Authors", totals["authors"])
columns[2].metric("Threads", totals["threads"])
columns[3].metric("Sources", totals["sources"])
st.subheader("Mentions per day")
st.bar_chart({"day": [d for d, _ in days], "mentions": [n for _, n in days]}, x="day",
             y="mentions")
st.subheader("Languages")
st.dataframe([{"language": lang, "mentions": n} for lang, n in languages],
             hide_index=True)
