import altair as alt
import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.aggregates import alert_terms, alert_title, negative_series
from dashboard.filters import Filters
from store.insights import set_alert_status


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Finding negative trends…")
def load(path: str, key: tuple) -> dict:
    with store.open_db(path) as db:
        return views.trends(db, Filters.from_key(key), common.catalogue())


def slice_name(key: str) -> str:
    brand, product, touchpoint = key.split("/")
    parts = [common.name_of(brand), common.name_of(product) if product != "*" else None,
             common.name_of(touchpoint) if touchpoint != "*" else "all touchpoints"]
    return " · ".join(p for p in parts if p)


def change_status(alert_id: int, status: str) -> None:
    with store.open_db(common.db_path()) as db:
        set_alert_status(db, alert_id, status)
    common.clear_caches()
    st.session_state["trends_notice"] = f"Alert {alert_id} marked {status}."


st.title("Trends & alerts")
filters = common.global_filters()
if common.no_data(common.EMPTY_STORE):
    st.stop()
page = load(common.db_path(), filters.key())
if notice := st.session_state.pop("trends_notice", None):
    st.success(notice)

st.subheader("Negative mentions by product × touchpoint")
table = [row for row in page["table"] if row["mentions"] or row["previous_negative"]]
if not table:
    st.info("No tagged brand mentions in this period for these filters. Widen the period, "
            "or run `otklik tag` and `otklik analyze`.")
else:
    keys = [row["slice"] for row in table]
    chosen = st.multiselect("Series", keys, default=page["top"][:4], format_func=slice_name,
                            key="trends_series",
                            help="The slices with most negatives are shown first.")
    if chosen:
        series = pd.DataFrame(negative_series(page["daily"], filters, chosen))
        series["day"] = pd.to_datetime(series["day"])
        series["series"] = series["slice"].map(slice_name)
        lines = alt.Chart(series).mark_line(point=True).encode(
            x=alt.X("day:T", title=None), y=alt.Y("negative:Q", title="negative mentions"),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom")),
            tooltip=[alt.Tooltip("day:T"), "series:N", "negative:Q"])
        spikes = pd.DataFrame([s for s in page["spikes"] if s["slice"] in chosen])
        chart = lines
        if not spikes.empty:
            spikes["start"] = pd.to_datetime(spikes["start"])
            spikes["end"] = pd.to_datetime(spikes["end"]) + pd.Timedelta(days=1)
            spikes["series"] = spikes["slice"].map(slice_name)
            shade = alt.Chart(spikes).mark_rect(opacity=0.15, color="#d62728").encode(
                x="start:T", x2="end:T",
                tooltip=["series:N", "status:N", alt.Tooltip("magnitude:Q", format=".1f")])
            chart = alt.layer(shade, lines)
        st.altair_chart(chart.properties(height=300), width="stretch")
        st.caption("Shaded: alert periods (spikes found by `otklik analyze`).")
    frame = pd.DataFrame(table[:30])
    frame["slice"] = frame["slice"].map(slice_name)
    st.dataframe(frame[["slice", "negative", "previous_negative", "change", "mentions",
                        "negative_share"]], hide_index=True, width="stretch",
                 column_config={"previous_negative": "negative before",
                                "negative_share": st.column_config.NumberColumn(
                                    "% negative", format="%.1f")})

st.subheader("Alerts")
alerts = page["open_alerts"]
if not alerts:
    st.success("No open alerts for these filters. `otklik analyze` raises one when "
               "negatives about a brand, product or touchpoint spike.")
for alert in alerts:
    with st.container(border=True):
        st.markdown(f"**{common.safe(alert_title(alert, common.names()))}** · "
                    f"{common.safe(alert['status'])}")
        details = alert.get("details") or {}
        st.caption(common.safe(
            f"from {common.when(alert['started_at'])} to {common.when(alert['last_seen_at'])}"
            f" · {details.get('observed', '?')} negatives against "
            f"{alert.get('baseline') or 0:.1f} expected · ×{alert.get('magnitude') or 0:.1f}"))
        words = alert_terms(alert["terms"])
        st.markdown("Distinctive words: " + (common.safe(", ".join(words)) if words else "–"))
        examples = [page["examples"][i] for i in alert["example_ids"] if i in page["examples"]]
        for m in examples[:3]:
            st.text(f"{common.when(m.published_at)} · {m.source_id}\n{m.text[:400]}")
            if url := common.safe_url(m.url):
                st.link_button("Open the original ↗", url)
        missing = len(alert["example_ids"]) - len(examples)
        if missing > 0:
            st.caption(f"{missing} example post(s) are no longer stored.")
        left, right, _ = st.columns([1, 1, 4])
        if alert["status"] == "open":
            left.button("Acknowledge", key=f"ack-{alert['id']}", on_click=change_status,
                        args=(alert["id"], "acknowledged"))
        right.button("Resolve", key=f"resolve-{alert['id']}", on_click=change_status,
                     args=(alert["id"], "resolved"))

resolved = [a for a in page["all_alerts"] if a["status"] == "resolved"]
if resolved:
    with st.expander(f"Resolved alerts ({len(resolved)})"):
        st.dataframe([{"alert": alert_title(a, common.names()), "from": a["started_at"],
                       "to": a["last_seen_at"], "magnitude": a["magnitude"],
                       "words": ", ".join(alert_terms(a["terms"]))}
                      for a in resolved], hide_index=True, width="stretch")
