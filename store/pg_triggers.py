"""The store's triggers in PostgreSQL, doing what SQLite's of m008 and m009 do: LSH band
rows go with their mention; the UTC day of every change that moves a roll-up is marked in
``rollup_stale_days``; ``cluster_days`` counts the members of each complaint cluster per
day of publication as members come and go. A day is ``date(published_at)`` as SQLite
computes it (``store.pg_dates``).

Marking a day never waits for another writer: ``rollup_stale_days`` has no unique key in
PostgreSQL (a writer would wait for the other's uncommitted mark of the same day, and two
such waits are a deadlock), so two writers at once may mark one day twice.
"""

from __future__ import annotations

_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION mention_bands_follow() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         DELETE FROM mention_bands WHERE mention_seq = OLD.seq;
         RETURN NULL;
       END $$""",
    # TG_ARGV[0]: 'own' marks a mention's own day, 'mention' the day of the row's mention;
    # the old row's day, then the new one's, as the statement has them.
    """CREATE OR REPLACE FUNCTION rollup_mark_stale() RETURNS trigger
       LANGUAGE plpgsql AS $$
       DECLARE
         days text[];
       BEGIN
         IF TG_ARGV[0] = 'own' THEN
           days := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN public.date(OLD.published_at) END,
                         CASE WHEN TG_OP <> 'DELETE' THEN public.date(NEW.published_at) END];
         ELSE
           days := ARRAY[
             CASE WHEN TG_OP <> 'INSERT' THEN (SELECT public.date(m.published_at)
                                                FROM mentions m WHERE m.id = OLD.mention_id) END,
             CASE WHEN TG_OP <> 'DELETE' THEN (SELECT public.date(m.published_at)
                                                FROM mentions m WHERE m.id = NEW.mention_id) END];
         END IF;
         INSERT INTO rollup_stale_days (day)
           SELECT DISTINCT changed FROM unnest(days) AS changed WHERE changed IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM rollup_stale_days s WHERE s.day = changed);
         RETURN NULL;
       END $$""",
    """CREATE OR REPLACE FUNCTION cluster_days_in(clusters text[], member_day text)
       RETURNS void LANGUAGE sql AS $$
         INSERT INTO cluster_days (cluster_id, day, members)
           SELECT cluster, member_day, 1 FROM unnest(clusters) AS cluster
           WHERE member_day IS NOT NULL
           ON CONFLICT (cluster_id, day) DO UPDATE SET members = cluster_days.members + 1
       $$""",
    """CREATE OR REPLACE FUNCTION cluster_days_out(clusters text[], member_day text)
       RETURNS void LANGUAGE sql AS $$
         UPDATE cluster_days SET members = members - 1
           WHERE cluster_id = ANY (clusters) AND day = member_day;
         DELETE FROM cluster_days
           WHERE cluster_id = ANY (clusters) AND day = member_day AND members <= 0
       $$""",
    # A member deleted with its mention was counted out before the mention went (below):
    # when the cascade deletes it the mention is gone, its day NULL, and nothing changes.
    """CREATE OR REPLACE FUNCTION cluster_days_member() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           PERFORM cluster_days_in(ARRAY[NEW.cluster_id],
             (SELECT public.date(m.published_at) FROM mentions m WHERE m.id = NEW.mention_id));
         ELSE
           PERFORM cluster_days_out(ARRAY[OLD.cluster_id],
             (SELECT public.date(m.published_at) FROM mentions m WHERE m.id = OLD.mention_id));
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE OR REPLACE FUNCTION cluster_days_mention() RETURNS trigger
       LANGUAGE plpgsql AS $$
       DECLARE
         clusters text[] := ARRAY(SELECT c.cluster_id FROM cluster_members c WHERE c.mention_id
                                  = CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
       BEGIN
         PERFORM cluster_days_out(clusters, public.date(OLD.published_at));
         IF TG_OP = 'DELETE' THEN
           RETURN OLD;
         END IF;
         PERFORM cluster_days_in(clusters, public.date(NEW.published_at));
         RETURN NULL;
       END $$""",
]

_ROLLUP_MENTION_CHANGED = " OR ".join(
    f"OLD.{column} IS DISTINCT FROM NEW.{column}"
    for column in ("published_at", "duplicate_of", "language", "source_id", "author_id"))


def _trigger(name: str, when: str, table: str, function: str, condition: str = "") -> str:
    condition = f"WHEN ({condition})" if condition else ""
    return (f"CREATE TRIGGER {name} {when} ON {table} FOR EACH ROW {condition} "
            f"EXECUTE FUNCTION {function}")


_TRIGGERS = [
    _trigger("mention_bands_follow", "AFTER DELETE", "mentions", "mention_bands_follow()"),
    _trigger("rollup_mention_insert", "AFTER INSERT", "mentions", "rollup_mark_stale('own')"),
    _trigger("rollup_mention_delete", "AFTER DELETE", "mentions", "rollup_mark_stale('own')"),
    _trigger("rollup_mention_update",
             "AFTER UPDATE OF published_at, duplicate_of, language, source_id, author_id",
             "mentions", "rollup_mark_stale('own')", _ROLLUP_MENTION_CHANGED),
    _trigger("rollup_tag_insert", "AFTER INSERT", "tags", "rollup_mark_stale('mention')",
             "NEW.name = 'sentiment'"),
    _trigger("rollup_tag_update", "AFTER UPDATE", "tags", "rollup_mark_stale('mention')",
             "'sentiment' IN (OLD.name, NEW.name)"),
    _trigger("rollup_tag_delete", "AFTER DELETE", "tags", "rollup_mark_stale('mention')",
             "OLD.name = 'sentiment'"),
    _trigger("rollup_hit_insert", "AFTER INSERT", "hits", "rollup_mark_stale('mention')",
             "NEW.kind <> 'entity'"),
    _trigger("rollup_hit_update", "AFTER UPDATE", "hits", "rollup_mark_stale('mention')"),
    _trigger("rollup_hit_delete", "AFTER DELETE", "hits", "rollup_mark_stale('mention')",
             "OLD.kind <> 'entity'"),
    _trigger("rollup_correction_insert", "AFTER INSERT", "corrections",
             "rollup_mark_stale('mention')"),
    _trigger("rollup_correction_update", "AFTER UPDATE", "corrections",
             "rollup_mark_stale('mention')"),
    _trigger("rollup_correction_delete", "AFTER DELETE", "corrections",
             "rollup_mark_stale('mention')"),
    _trigger("cluster_days_member_in", "AFTER INSERT", "cluster_members",
             "cluster_days_member()"),
    _trigger("cluster_days_member_out", "AFTER DELETE", "cluster_members",
             "cluster_days_member()"),
    _trigger("cluster_days_mention_out", "BEFORE DELETE", "mentions",
             "cluster_days_mention()"),
    _trigger("cluster_days_mention_moved", "AFTER UPDATE OF published_at", "mentions",
             "cluster_days_mention()",
             "public.date(OLD.published_at) IS DISTINCT FROM public.date(NEW.published_at)"),
]

TRIGGERS: list[str] = [*_FUNCTIONS, *_TRIGGERS]
