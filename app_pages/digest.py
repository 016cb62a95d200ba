import os
from datetime import timedelta

import streamlit as st

import store
from app_pages import common
from dashboard import views
from insights.digest import DEFAULT_BASE_URL, parse_week

WEEKS = 12  # weeks offered, the latest first


@st.cache_data(ttl=common.TTL, max_entries=16, show_spinner="Gathering the week…")
def load(path: str, week: str, base_url: str) -> dict:
    with store.open_db(path) as db:
        return views.digest(db, common.catalogue(), parse_week(week), base_url)


st.title("Weekly digest")
if common.no_data(common.EMPTY_STORE):
    st.stop()
last_day = common.summary(common.db_path())["choices"].last_day
latest = parse_week(None, last_day + timedelta(days=1))
weeks = [latest.label]
for _ in range(WEEKS - 1):
    latest = latest.previous
    weeks.append(latest.label)
common.page_param("week", "digest_week", weeks[0], cast=lambda raw: parse_week(raw).label)
if st.session_state["digest_week"] not in weeks:  # an older week from a link: offer it too
    weeks.append(st.session_state["digest_week"])
week = st.selectbox("Week", weeks, key="digest_week",
                    format_func=lambda label: parse_week(label).describe())
if st.query_params.get("week") != week:
    st.query_params["week"] = week
base_url = os.environ.get("OTKLIK_DASHBOARD_URL") or DEFAULT_BASE_URL
result = load(common.db_path(), week, base_url)
digest = result["page"]
st.caption("What changed this week against the week before. Each line opens the view "
           "behind it; `otklik digest` writes the same as Markdown or e-mail HTML.")
if digest.empty:
    st.success(f"A quiet week ({digest.week.describe()}): no incident, no growing complaint "
               "theme, nobody waiting for contact.")
for section in digest.sections:
    st.subheader(section.title)
    if not section.lines:
        st.caption(section.none)
        continue
    st.markdown("\n".join(f"- [{common.safe(line.text)}]({line.link})"
                          for line in section.lines))
left, right, _ = st.columns([1, 1, 3])
left.download_button("Download Markdown", result["markdown"], on_click="ignore",
                      file_name=f"digest-{week}.md", mime="text/markdown", key="digest-md")
right.download_button("Download e-mail HTML", result["html"], on_click="ignore",
                      file_name=f"digest-{week}.html", mime="text/html", key="digest-html")
