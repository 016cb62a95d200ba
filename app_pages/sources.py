import streamlit as st

import store
from app_pages import common
from dashboard import views


@st.cache_data(ttl=60, show_spinner=False)
def load(path: str) -> list[dict]:
    with store.open_db(path) as db:
        return views.sources(db)


st.title("Sources")
common.global_filters()
rows = load(common.db_path())
if not rows:
    st.info("No crawls yet. Add sources to data/sources.yaml and run `otklik crawl` "
            "(or `otklik demo` for the sample community).")
    st.stop()
broken = [row["source"] for row in rows if row["layout changed"]]
failing = [row["source"] for row in rows if row["errors"] or row["status"] not in
           ("finished", "no crawl recorded")]
columns = st.columns(3)
columns[0].metric("Sources", len(rows), border=True)
columns[1].metric("Layout changed", len(broken), border=True,
                  help="Pages that held posts before gave none: the site's markup changed.")
columns[2].metric("With errors", len(failing), border=True)
for source in broken:
    st.error(common.safe(f"{source}: layout changed — the parser found no posts where "
                         "there were some before. Check the site and the spider."))
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={"layout changed": st.column_config.CheckboxColumn()})
st.caption("Counts are those of the last run of each source; the sidebar filters do not "
           "apply here.")
