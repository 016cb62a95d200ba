"""Pure helpers of the Streamlit dashboard: filters, aggregates, evidence. No streamlit here.

The pages in ``app_pages/`` hold the widgets; they call these functions on data read through
``store`` and ``insights``.
"""
