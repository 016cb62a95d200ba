"""Otklik dashboard: navigation only; each page lives in ``pages/``."""

import streamlit as st

st.set_page_config(page_title="Otklik", layout="wide")
navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", default=True),
        st.Page("pages/mentions.py", title="Mentions"),
        st.Page("pages/sources.py", title="Sources"),
    ]
)
navigation.run()
