import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.filters import Filters
from insights.exports import EXPORTS

NPS_COLUMNS = ["handle", "source", "brand", "class", "posts", "positive", "negative",
               "recommended", "churned", "profile_url"]


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Ranking advocates…")
def load(path: str, key: tuple, min_mentions: int) -> dict:
    filters = Filters.from_key(key)
    with store.open_db(path) as db:
        page = views.advocates(db, filters, common.catalogue(), min_mentions)
        page["export"] = views.advocate_export(db, page["table"], common.catalogue(), filters)
    return page


st.title("Advocates")
filters = common.global_filters(keep=("min",))
if common.no_data(common.EMPTY_STORE):
    st.stop()
common.page_param("min", "advocates_min", 1, cast=int)
min_mentions = st.number_input("Minimum mentions", min_value=0, max_value=1000, step=1,
                               key="advocates_min",
                               help="Leave out people with fewer posts in the store.")
common.sync_url(filters, {"min": min_mentions})
page = load(common.db_path(), filters.key(), int(min_mentions))

st.subheader("Brand advocates")
st.caption("People who recommend, defend and help, steadily, and are not spammers. "
           "Brand, source and language follow the sidebar; scores come from `otklik analyze`.")
table = page["table"]
if not page["scored"]:
    st.info("No advocate scores yet. Run `otklik analyze` after `otklik tag`.")
elif not table:
    st.info("No advocate passes these filters. Lower the minimum mentions or clear the "
            "language or source filter.")
else:
    frame = pd.DataFrame(table).drop(columns=["author_id"])
    frame = frame.drop(columns=[c for c in ("language", "name") if frame[c].isna().all()])
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["brand"] = frame["brand"].map(common.name_of)
    frame["profile_url"] = frame["profile_url"].map(common.safe_url)
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "profile_url": st.column_config.LinkColumn("profile", display_text="open"),
        "score": st.column_config.ProgressColumn("score", min_value=0, max_value=100,
                                                 format="%.1f")})
common.download_buttons(page["export"], EXPORTS["advocates"], "advocates", filters)

st.subheader("Promoters and detractors")
st.caption(f"Social NPS classes of the authors who wrote about the brand in "
           f"{filters.start} – {filters.end}, from the stance of their posts.")
classes = page["classes"]
if not classes:
    st.info("Nobody wrote about the brand in this period with these filters.")
else:
    counts = {name: sum(r["class"] == name for r in classes)
              for name in ("promoter", "passive", "detractor")}
    score = round(100 * (counts["promoter"] - counts["detractor"]) / len(classes), 1)
    columns = st.columns(4)
    columns[0].metric("Social NPS", f"{score:+.1f}", border=True)
    columns[1].metric("Promoters", counts["promoter"], border=True)
    columns[2].metric("Passives", counts["passive"], border=True)
    columns[3].metric("Detractors", counts["detractor"], border=True)
    frame = pd.DataFrame(classes)
    frame["brand"] = frame["brand"].map(common.name_of)
    frame["profile_url"] = frame["profile_url"].map(common.safe_url)
    config = {"profile_url": st.column_config.LinkColumn("profile", display_text="open")}
    left, right = st.columns(2)
    left.markdown("**Promoters**")
    left.dataframe(frame[frame["class"] == "promoter"][NPS_COLUMNS], hide_index=True,
                   width="stretch", column_config=config)
    right.markdown("**Detractors**")
    right.dataframe(frame[frame["class"] == "detractor"][NPS_COLUMNS], hide_index=True,
                    width="stretch", column_config=config)
    common.download_buttons(classes, NPS_COLUMNS, "nps-classes", filters)
