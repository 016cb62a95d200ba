"""Otklik dashboard: navigation only; each page lives in ``app_pages/``."""

import streamlit as st

st.set_page_config(page_title="Otklik", layout="wide")
navigation = st.navigation(
    {
        "Watch": [
            st.Page("app_pages/overview.py", title="Overview", url_path="overview", default=True),
            st.Page("app_pages/journey.py", title="Customer journey", url_path="journey"),
            st.Page("app_pages/trends.py", title="Trends & alerts", url_path="trends"),
            st.Page("app_pages/digest.py", title="Weekly digest", url_path="digest"),
        ],
        "Act": [
            st.Page("app_pages/at_risk.py", title="Customers at risk", url_path="at-risk"),
            st.Page("app_pages/complaints.py", title="Complaints", url_path="complaints"),
            st.Page("app_pages/advocates.py", title="Advocates", url_path="advocates"),
            st.Page("app_pages/questions.py", title="Community questions", url_path="questions"),
        ],
        "Explore": [
            st.Page("app_pages/mentions.py", title="Mentions", url_path="mentions"),
            st.Page("app_pages/sources.py", title="Sources", url_path="sources"),
        ],
    }
)
navigation.run()
