import altair as alt
import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.aggregates import alert_terms, format_change, format_number, incident_title
from dashboard.filters import Filters

SENTIMENT_COLOURS = alt.Scale(domain=["negative", "neutral", "positive", "untagged"],
                              range=["#d62728", "#b0b0b0", "#2ca02c", "#e8e8e8"])


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Counting…")
def load(path: str, key: tuple) -> dict:
    with store.open_db(path) as db:
        return views.overview(db, Filters.from_key(key), common.catalogue())


st.title("Overview")
filters = common.global_filters()
if common.no_data(common.EMPTY_STORE):
    st.stop()
page = load(common.db_path(), filters.key())
st.caption(f"{filters.describe()} · compared with {filters.previous[0]} – {filters.previous[1]}")
if page["stale_days"]:
    st.caption(f"Figures of {page['stale_days']} day(s) changed since the last `otklik analyze` "
               "are computed on the fly; `otklik analyze` stores them again.")

if page["incidents"]:
    st.subheader(f"Open incidents ({len(page['incidents'])})")
    for incident in page["incidents"][:5]:
        words = ", ".join(alert_terms(incident["terms"])[:5]) or "no distinctive words"
        touchpoints = ", ".join(f"{common.name_of(t['touchpoint'])} {t['posts']}"
                                for t in incident["touchpoints"][:3])
        state = "ongoing" if incident["state"] == "open" else "over"
        line = (f"{incident_title(incident, common.names())} · since "
                f"{common.when(incident['started_at'])} · {incident['posts']} negative posts · "
                f"×{incident['magnitude'] or 0:.1f} against the baseline · {state}, "
                f"{incident['status']} · touchpoints: {touchpoints or '–'} · words: {words}")
        st.error(common.safe(line))
    st.page_link("app_pages/trends.py", label="Review incidents on Trends & alerts →")
else:
    st.success("No open incidents for these filters.")

if not page["tagged"]:
    st.info("Mentions are stored but none is tagged with a brand in this period. "
            "Run `otklik tag`, or widen the period in the sidebar.")
    st.stop()

columns = st.columns(len(page["kpis"]))
for column, kpi in zip(columns, page["kpis"], strict=True):
    column.metric(kpi.label, format_number(kpi.value, kpi.unit if kpi.unit == "%" else ""),
                  format_change(kpi), delta_color="normal" if kpi.higher_is_better
                  else "inverse", help=kpi.help, border=True)

st.subheader("Volume and sentiment per day")
daily = pd.DataFrame(page["daily"])
if daily["mentions"].sum() == 0:
    st.info("No brand mentions in this period for these filters.")
else:
    daily["day"] = pd.to_datetime(daily["day"])
    chart = alt.Chart(daily).mark_bar().encode(
        x=alt.X("day:T", title=None),
        y=alt.Y("mentions:Q", title="mentions", stack="zero", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("sentiment:N", scale=SENTIMENT_COLOURS, title="stance"),
        order=alt.Order("sentiment:N"),
        tooltip=[alt.Tooltip("day:T"), "sentiment:N", "mentions:Q"],
    ).properties(height=280)
    st.altair_chart(chart, width="stretch")
    totals = daily.groupby("day")["mentions"].sum()
    negatives = daily[daily["sentiment"] == "negative"].set_index("day")["mentions"]
    share = (100 * negatives / totals.where(totals > 0)).rename("negative share, %").dropna()
    st.caption("Negative share per day, %")
    line = alt.Chart(share.reset_index()).mark_line(point=True, color="#d62728").encode(
        x=alt.X("day:T", title=None), y=alt.Y("negative share, %:Q", title="% negative"),
        tooltip=[alt.Tooltip("day:T"), alt.Tooltip("negative share, %:Q", format=".1f")],
    ).properties(height=160)
    st.altair_chart(line, width="stretch")

weekly = pd.DataFrame(page["nps_weekly"])
if not weekly.empty and weekly["nps"].notna().any():
    st.subheader("Social NPS per week")
    st.caption("Each author is classed from their posts of that week (promoter, passive, "
               "detractor); NPS = % promoters − % detractors.")
    weekly["brand"] = weekly["brand"].map(common.name_of)
    chart = alt.Chart(weekly.dropna(subset=["nps"])).mark_line(point=True).encode(
        x=alt.X("period:O", title="ISO week"), y=alt.Y("nps:Q", title="NPS"),
        color=alt.Color("brand:N", title="brand"),
        tooltip=["brand:N", "period:O", alt.Tooltip("nps:Q", format=".1f"), "promoters:Q",
                 "passives:Q", "detractors:Q"],
    ).properties(height=220)
    st.altair_chart(chart, width="stretch")
