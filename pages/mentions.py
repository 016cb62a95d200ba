import streamlit as st

import store

st.title("Mentions")
query = st.text_input("Search (Cyrillic or Latin; \"quotes\" keep a phrase)",
                      value=st.query_params.get("q", ""))
if query:
    st.query_params["q"] = query
    with store.open_db(store.default_db_path()) as db:
        results = store.search_mentions(db, query, limit=50)
    st.caption(f"{len(results)} mentions")
    for result in results:
        with st.container(border=True):
            st.text(f"{result['published_at'] or '-'} · {result['source']} · "
                    f"{result['author'] or '?'}")
            st.text(result["text"])
            st.link_button("Open the original", result["url"])
else:
    st.info("Type words to find in posts, e.g. a product name or a complaint.")
