import streamlit as st

import store

st.title("Sources")
with store.open_db(store.default_db_path()) as db:
    runs = store.last_runs(db)
if not runs:
    st.info("No crawls yet. Add sources to data/sources.yaml and run `otklik crawl`.")
    st.stop()
rows = []
for run in runs:
    counts = {k.removeprefix("otklik/"): v for k, v in run["stats"].items()}
    rows.append({
        "source": run["source"],
        "last crawl": run["finished_at"] or run["started_at"],
        "status": run["status"],
        "new": counts.get("stored/inserted", 0),
        "edited": counts.get("stored/updated", 0),
        "skipped": sum(v for k, v in counts.items() if k.startswith("skipped/")),
        "flags": ", ".join(run["flags"]) or "ok",
    })
st.dataframe(rows, hide_index=True)
