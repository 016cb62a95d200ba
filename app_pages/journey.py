import altair as alt
import pandas as pd
import streamlit as st

import store
from app_pages import common
from dashboard import views
from dashboard.filters import Filters


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Building the journey map…")
def load(path: str, key: tuple, product: str | None) -> dict:
    with store.open_db(path) as db:
        return views.journey(db, Filters.from_key(key), common.catalogue(), product)


@st.cache_data(ttl=common.TTL, max_entries=32, show_spinner=False)
def posts(path: str, key: tuple, product: str | None, touchpoint: str, week: str) -> list:
    with store.open_db(path) as db:
        return views.journey_posts(db, Filters.from_key(key), common.catalogue(), product,
                                   touchpoint, week)


st.title("Customer journey")
filters = common.global_filters(keep=("product", "cell"))
if common.no_data(common.EMPTY_STORE):
    st.stop()
catalogue = common.catalogue()
brands = views.chosen_brands(filters, catalogue)
products = [p.id for brand in catalogue.brands if brand.id in brands for p in brand.products]
common.page_param("product", "journey_product", common.ALL, options=[common.ALL, *products])
product = st.selectbox("Product", [common.ALL, *products], key="journey_product",
                       format_func=lambda p: common.name_of(p) if p else "All products") or None
page = load(common.db_path(), filters.key(), product)
cells = [c for c in page["cells"] if c["week"]]
brand_text = ", ".join(common.name_of(b) for b in brands)
st.caption(f"{brand_text} · {common.name_of(product) if product else 'all products'} · "
           f"{filters.describe()} · {page['posts']} posts")
if not cells:
    common.sync_url(filters, {"product": product})
    st.info("No post in this period names a touchpoint of the journey for these filters. "
            "Widen the period or choose another brand or product; touchpoints come from "
            "`otklik tag` with the catalogue's cue phrases.")
    st.stop()

hurting = page["hurting"]
if hurting:
    st.subheader(f"Where it hurts in the week of {common.week_label(hurting[0]['week'])}")
    columns = st.columns(min(len(hurting), 4))
    for column, cell in zip(columns, hurting, strict=False):
        column.metric(common.name_of(cell["touchpoint"]), f"{cell['negative']} negative",
                      f"{cell['change']:+d} vs week before", delta_color="inverse",
                      help=f"{cell['negative_share']}% of {cell['mentions']} posts negative",
                      border=True)

order = [t.id for t in catalogue.touchpoints]
frame = pd.DataFrame(cells)
frame["touchpoint name"] = frame["touchpoint"].map(common.name_of)
frame["week label"] = frame["week"].map(common.week_label)
names_order = [common.name_of(t) for t in order if t in set(frame["touchpoint"])]
names_order += sorted(set(frame["touchpoint name"]) - set(names_order))
cell = alt.selection_point(name="cell", fields=["touchpoint", "week"], on="click")
base = alt.Chart(frame).encode(
    x=alt.X("week:O", title="week starting", axis=alt.Axis(labelAngle=-40)),
    y=alt.Y("touchpoint name:N", title=None, sort=names_order,
            axis=alt.Axis(labelLimit=260)),
)
heat = base.mark_rect().encode(
    color=alt.Color("negative_share:Q", title="% negative",
                    scale=alt.Scale(scheme="reds", domain=[0, 100])),
    opacity=alt.condition(cell, alt.value(1.0), alt.value(0.35)),
    tooltip=["touchpoint name:N", "week label:N", "mentions:Q", "negative:Q",
             alt.Tooltip("negative_share:Q", title="% negative")],
).add_params(cell)
labels = base.mark_text(fontSize=11).encode(
    text="mentions:Q",
    color=alt.condition("datum.negative_share > 60", alt.value("white"), alt.value("black")),
)
st.subheader("Touchpoint × week")
st.caption("Colour: share of posts negative at the touchpoint; number: posts. "
           "Click a cell to read the posts behind it.")
event = st.altair_chart((heat + labels).properties(height=alt.Step(34)),
                        width="stretch", on_select="rerun", key="journey_heatmap",
                        selection_mode="cell")

choices = [f"{c['touchpoint']}|{c['week']}" for c in
           sorted(cells, key=lambda c: (-c["negative"], c["week"], c["touchpoint"]))]
clicked = (event.selection.get("cell") or [{}])[0] if event else {}
if clicked.get("touchpoint") and clicked.get("week"):
    chosen = f"{clicked['touchpoint']}|{clicked['week']}"
    if chosen in choices:
        st.session_state["journey_cell"] = chosen
common.page_param("cell", "journey_cell", None, options=[None, *choices])


def cell_name(value: str) -> str:
    touchpoint, week = value.split("|")
    match = next(c for c in cells if c["touchpoint"] == touchpoint and c["week"] == week)
    return (f"{common.name_of(touchpoint)} · week of {week} · {match['negative']} negative "
            f"of {match['mentions']}")


selected = st.selectbox("Posts behind a cell", choices, key="journey_cell",
                        format_func=cell_name, placeholder="Choose a cell, or click one above…")
common.sync_url(filters, {"product": product, "cell": selected})
if selected:
    touchpoint, week = selected.split("|")
    st.subheader(f"{common.name_of(touchpoint)} · {common.week_label(week)}")
    for m in posts(common.db_path(), filters.key(), product, touchpoint, week):
        with st.container(border=True):
            stance = dict(m.touchpoints).get(touchpoint) or "no stance"
            common.show_post({"published_at": common.when(m.published_at),
                              "source": m.source_id, "url": m.url, "text": m.text,
                              "brands": [{"brand": m.brand, "product": m.product,
                                          "stance": m.stance, "sentiment": m.sentiment,
                                          "touchpoints": m.touchpoints,
                                          "intents": m.intents}]})
            st.caption(common.safe(f"at {common.name_of(touchpoint)}: {stance}"))
