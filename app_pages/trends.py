import altair as alt
import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.aggregates import alert_terms, incident_title, negative_series
from dashboard.filters import Filters
from store.incidents import set_incident_status


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Finding negative trends…")
def load(path: str, key: tuple, incident: int | None) -> dict:
    with store.open_db(path) as db:
        return views.trends(db, Filters.from_key(key), common.catalogue(), incident=incident)


def slice_name(key: str) -> str:
    brand, product, touchpoint = key.split("/")
    parts = [common.name_of(brand), common.name_of(product) if product != "*" else None,
             common.name_of(touchpoint) if touchpoint != "*" else "all touchpoints"]
    return " · ".join(p for p in parts if p)


def change_status(incident_id: int, status: str) -> None:
    with store.open_db(common.db_path()) as db:
        set_incident_status(db, incident_id, status)
    common.clear_caches()
    st.session_state["trends_notice"] = (f"Incident {incident_id} and all its alerts marked "
                                         f"{status}.")


def show_incident(incident: dict, examples: dict, linked: bool = False) -> None:
    """One incident card: where, since when, its touchpoints and slices with their sizes,
    its course, words, examples, and the buttons that act on all its alerts."""
    with st.container(border=True):
        state = "ongoing" if incident["state"] == "open" else "over"
        mark = "🔗 " if linked else ""
        st.markdown(f"{mark}**{common.safe(incident_title(incident, common.names()))}** · "
                    f"{state} · {common.safe(incident['status'])} · incident {incident['id']}")
        st.caption(common.safe(
            f"from {common.when(incident['started_at'])} to "
            f"{common.when(incident['last_seen_at'])} · {incident['posts']} negative posts · "
            f"×{incident.get('magnitude') or 0:.1f} against the baseline · "
            f"{len(incident['slices'])} alert(s)"))
        touchpoints = incident["touchpoints"]
        if touchpoints:
            st.markdown("Touchpoints, most affected first: " + common.safe(", ".join(
                f"{common.name_of(t['touchpoint'])} {t['posts']} posts ({t['share']:.0%}; "
                f"{t['baseline_share']:.0%} of complaints before)" for t in touchpoints[:5])))
        words = alert_terms(incident["terms"])
        st.markdown("Distinctive words: " + (common.safe(", ".join(words)) if words else "–"))
        course = pd.DataFrame(incident["course"], columns=["at", "posts"])
        if len(course) > 1:
            course["at"] = pd.to_datetime(course["at"])
            st.altair_chart(alt.Chart(course).mark_bar(color="#d62728").encode(
                x=alt.X("at:T", title=None), y=alt.Y("posts:Q", title="negative posts"),
                tooltip=[alt.Tooltip("at:T"), "posts:Q"]).properties(height=120),
                width="stretch")
        with st.expander(f"Slices ({len(incident['slices'])})"):
            st.dataframe([{"slice": slice_name(s["key"]), "negatives": s["observed"],
                           "expected": round(s["expected"] or 0, 1),
                           "×": round(s["magnitude"] or 0, 1), "alert": s["status"]}
                          for s in incident["slices"]], hide_index=True, width="stretch")
        shown = [examples[i] for i in incident["example_ids"] if i in examples]
        for m in shown[:3]:
            st.text(f"{common.when(m.published_at)} · {m.source_id}\n{m.text[:400]}")
            if url := common.safe_url(m.url):
                st.link_button("Open the original ↗", url)
        missing = len(incident["example_ids"]) - len(shown)
        if missing > 0:
            st.caption(f"{missing} example post(s) are no longer stored.")
        left, right, _ = st.columns([1, 1, 4])
        if incident["status"] == "open":
            left.button("Acknowledge", key=f"ack-{incident['id']}", on_click=change_status,
                        args=(incident["id"], "acknowledged"),
                        help="Acknowledges the incident and every alert of it.")
        if incident["status"] != "resolved":
            right.button("Resolve", key=f"resolve-{incident['id']}", on_click=change_status,
                         args=(incident["id"], "resolved"),
                         help="Resolves the incident and every alert of it.")


st.title("Trends & alerts")
common.page_param("incident", "trends_incident", None, cast=int)
filters = common.global_filters(keep=("incident",))
if common.no_data(common.EMPTY_STORE):
    st.stop()
page = load(common.db_path(), filters.key(), st.session_state.get("trends_incident"))
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

st.subheader("Incidents")
st.caption("One incident is every alert one event raised: the brand, its products and the "
           "touchpoints its posts name, grouped by `otklik analyze`.")
asked = page["asked"]
if asked and asked["id"] not in {i["id"] for i in page["incidents"]}:
    show_incident(asked, page["examples"], linked=True)
if not page["incidents"]:
    st.success("No open incidents for these filters. `otklik analyze` raises one when "
               "negatives about a brand, product or touchpoint spike.")
for incident in page["incidents"]:
    show_incident(incident, page["examples"], linked=bool(asked) and asked["id"] == incident["id"])

resolved = page["resolved_incidents"]
if resolved:
    with st.expander(f"Resolved incidents in this period ({len(resolved)})"):
        st.dataframe([{"incident": incident_title(i, common.names()), "from": i["started_at"],
                       "to": i["last_seen_at"], "posts": i["posts"],
                       "touchpoints": ", ".join(t["touchpoint"] for t in i["touchpoints"][:3]),
                       "words": ", ".join(alert_terms(i["terms"])[:5])}
                      for i in resolved], hide_index=True, width="stretch")
