"""The dashboard's page scripts, listed by ``app.py``. Kept out of a folder named ``pages/``
so Streamlit does not add its own page list beside the app's Watch / Act / Explore menu."""
