"""SQLite's built-in functions that Otklik's queries call, for PostgreSQL: created in the
``public`` schema before the schema (``store.pg_schema``), so that a query written for
SQLite gives the same result there. Run each statement as it is, without parameters.

- ``date``, ``datetime``, ``julianday``, ``strftime``: ``store.pg_dates``.
- ``json_each(text)``: rows ``key``, ``value``, ``type`` in document order, every value as
  text (``true`` is ``1``, a nested array its JSON); compared with an integer column it
  needs ``CAST(value AS INTEGER)``, which SQLite reads alike.
- ``json_extract(text, path)``: text (a number's text, ``1``/``0`` for true/false) for
  paths of keys and ``[N]`` / ``[#-N]`` indexes; read as a number it needs a cast.
- ``json_object(key, value[, key, value])`` and the aggregate ``json_group_array(x)``:
  compact JSON text, reals written as SQLite writes them (``5.0``).
- aggregates ``group_concat(text[, separator])`` (NULL for no value), ``sum(boolean)``
  (the true ones, NULL for no value) and ``total(x)`` (a double, 0.0 for no value).
- ``instr(text, text)``: the 1-based position, 0 if absent (an integer: a condition needs
  ``instr(…) > 0``).
- scalar ``max(a, b[, c])`` / ``min(…)``: NULL if any argument is NULL, as in SQLite;
  their arguments must share a type or be numbers of any kind.

Text is compared byte by byte in SQLite; the tables' text columns are ``COLLATE "C"`` for
the same order.
"""

from __future__ import annotations

from store.pg_dates import DATE_FUNCTIONS

# A value as a JSON literal, as SQLite's JSON functions write it.
_JSON_LITERAL = r"""
CREATE OR REPLACE FUNCTION public._sqlite_json_literal(value anyelement) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF value IS NULL THEN RETURN 'null'; END IF;
  CASE pg_typeof(value)
    WHEN 'double precision'::regtype, 'real'::regtype THEN
      RETURN public._sqlite_real(value::float8);
    WHEN 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype THEN
      RETURN value::text;
    WHEN 'boolean'::regtype THEN
      RETURN CASE WHEN value::boolean THEN '1' ELSE '0' END;
    ELSE
      RETURN to_json(value::text)::text;
  END CASE;
END $$"""

# A real as SQLite writes it as text, printf("%!.15g"): 15 significant digits (as
# PostgreSQL's float8-to-numeric cast rounds), a decimal point always, an exponent from
# 1e15 and below 1e-4.
_REAL = r"""
CREATE OR REPLACE FUNCTION public._sqlite_real(value double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  digits numeric;
  exponent integer;
  mantissa text;
BEGIN
  IF value = 0 OR value IN ('Infinity', '-Infinity', 'NaN') THEN
    RETURN CASE WHEN value = 0 THEN '0.0' WHEN value > 0 THEN 'Inf' ELSE '-Inf' END;
  END IF;
  digits := value::numeric;
  exponent := floor(log(abs(digits)));
  IF exponent BETWEEN -4 AND 14 THEN
    mantissa := digits::text;
  ELSE
    mantissa := (digits / 10::numeric ^ exponent)::text;
  END IF;
  mantissa := regexp_replace(CASE WHEN mantissa LIKE '%.%' THEN mantissa
                                  ELSE mantissa || '.' END, '0+$', '');
  mantissa := CASE WHEN mantissa LIKE '%.' THEN mantissa || '0' ELSE mantissa END;
  IF exponent BETWEEN -4 AND 14 THEN
    RETURN mantissa;
  END IF;
  RETURN mantissa || 'e' || CASE WHEN exponent < 0 THEN '-' ELSE '+' END
         || lpad(abs(exponent)::text, 2, '0');
END $$"""

# A JSON value (of json type) as SQLite's json_each and json_extract give it: strings
# unquoted, numbers, true and false as 1 and 0, null as NULL, arrays and objects as JSON.
_JSON_VALUE = r"""
CREATE OR REPLACE FUNCTION public._sqlite_json_value(item json) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE json_typeof(item)
    WHEN 'string' THEN item #>> '{}'
    WHEN 'number' THEN CASE WHEN item::text ~ '[.eE]'
                            THEN public._sqlite_real((item::text)::float8)
                            ELSE (item::text)::numeric::text END
    WHEN 'boolean' THEN CASE WHEN item::text = 'true' THEN '1' ELSE '0' END
    WHEN 'null' THEN NULL
    ELSE regexp_replace(item::text, '("(\\.|[^"\\])*")|[ \t\n\r]+', '\1', 'g')
  END
$$"""

# SQLite's json_each type column.
_JSON_TYPE = r"""
CREATE OR REPLACE FUNCTION public._sqlite_json_type(item json) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE json_typeof(item)
    WHEN 'string' THEN 'text'
    WHEN 'number' THEN CASE WHEN item::text ~ '[.eE]' THEN 'real' ELSE 'integer' END
    WHEN 'boolean' THEN item::text
    ELSE json_typeof(item)
  END
$$"""

_JSON_EACH = r"""
CREATE OR REPLACE FUNCTION public.json_each(document text)
RETURNS TABLE (key text, value text, type text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  parsed json := document::json;
BEGIN
  CASE json_typeof(parsed)
    WHEN 'array' THEN
      RETURN QUERY SELECT (e.n - 1)::text, public._sqlite_json_value(e.item),
                          public._sqlite_json_type(e.item)
                   FROM json_array_elements(parsed) WITH ORDINALITY AS e(item, n);
    WHEN 'object' THEN
      RETURN QUERY SELECT e.key, public._sqlite_json_value(e.value),
                          public._sqlite_json_type(e.value)
                   FROM pg_catalog.json_each(parsed) AS e;
    ELSE
      RETURN QUERY SELECT NULL::text, public._sqlite_json_value(parsed),
                          public._sqlite_json_type(parsed);
  END CASE;
END $$"""

# json_extract(document, path): the first member of a duplicated key, as SQLite takes it.
# A path of one plain key ('$.brand', what the store's queries ask, per hit, on every page
# that reads posts) is read by ``->`` in an SQL expression the planner inlines; any other
# path walks the document step by step. The one difference from SQLite: of a key written
# twice in one object, ``->`` reads the last value, SQLite the first — the store's JSON comes
# from ``json.dumps`` of dicts, which never writes a key twice, and reading the first costs
# a subquery per call (Customers at risk at 1 M mentions: 1.3 s → 2.8 s).
_JSON_EXTRACT = r"""
CREATE OR REPLACE FUNCTION public.json_extract(document text, path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN path ~ '^\$\.[A-Za-z_][A-Za-z0-9_]*$'
              THEN public._sqlite_json_value(document::json -> substr(path, 3))
              ELSE public._json_extract_path(document, path) END
$$"""

_JSON_EXTRACT_PATH = r"""
CREATE OR REPLACE FUNCTION public._json_extract_path(document text, path text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  item json := document::json;
  rest text := substr(path, 2);
  step text;
BEGIN
  IF left(path, 1) <> '$' THEN
    RAISE EXCEPTION 'JSON path error near ''%''', path;
  END IF;
  WHILE rest <> '' AND item IS NOT NULL LOOP
    step := substring(rest FROM '^(\.("[^"]*"|[^.[]*)|\[#?-?[0-9]+\])');
    IF step IS NULL OR step IN ('.', '.""') THEN
      RAISE EXCEPTION 'JSON path error near ''%''', rest;
    END IF;
    rest := substr(rest, length(step) + 1);
    IF left(step, 1) = '.' THEN
      step := trim(BOTH '"' FROM substr(step, 2));
      item := CASE WHEN json_typeof(item) = 'object' THEN
        (SELECT e.value FROM pg_catalog.json_each(item) AS e WHERE e.key = step LIMIT 1) END;
    ELSIF json_typeof(item) <> 'array' THEN
      item := NULL;
    ELSIF step ~ '^\[#-' THEN
      item := item -> (json_array_length(item) - substring(step FROM '[0-9]+')::integer);
    ELSIF step ~ '^\[[0-9]' THEN
      item := item -> substring(step FROM '[0-9]+')::integer;
    ELSE
      RAISE EXCEPTION 'JSON path error near ''%''', step;
    END IF;
  END LOOP;
  RETURN public._sqlite_json_value(item);
END $$"""

_JSON_OBJECT = [
    r"""CREATE OR REPLACE FUNCTION public.json_object(key1 text, value1 anyelement)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT '{' || to_json(key1)::text || ':' || public._sqlite_json_literal(value1) || '}'
        $$""",
    r"""CREATE OR REPLACE FUNCTION public.json_object(key1 text, value1 anyelement,
            key2 text, value2 anycompatible)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT '{' || to_json(key1)::text || ':' || public._sqlite_json_literal(value1)
               || ',' || to_json(key2)::text || ':' || public._sqlite_json_literal(value2)
               || '}'
        $$""",
]

_JSON_GROUP_ARRAY = [
    r"""CREATE OR REPLACE FUNCTION public._sqlite_json_array_step(items text, value anyelement)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN items IS NULL THEN '' ELSE items || ',' END
               || public._sqlite_json_literal(value)
        $$""",
    r"""CREATE OR REPLACE FUNCTION public._sqlite_json_array_end(items text)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT '[' || coalesce(items, '') || ']'
        $$""",
    r"""CREATE OR REPLACE AGGREGATE public.json_group_array(anyelement) (
        SFUNC = public._sqlite_json_array_step, STYPE = text,
        FINALFUNC = public._sqlite_json_array_end)""",
]

_GROUP_CONCAT = [
    r"""CREATE OR REPLACE FUNCTION public._sqlite_concat_step(joined text, value text,
            separator text)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN value IS NULL THEN joined WHEN joined IS NULL THEN value
                    ELSE joined || coalesce(separator, '') || value END
        $$""",
    r"""CREATE OR REPLACE FUNCTION public._sqlite_concat_step(joined text, value text)
        RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT public._sqlite_concat_step(joined, value, ',')
        $$""",
    r"""CREATE OR REPLACE AGGREGATE public.group_concat(text) (
        SFUNC = public._sqlite_concat_step, STYPE = text)""",
    r"""CREATE OR REPLACE AGGREGATE public.group_concat(text, text) (
        SFUNC = public._sqlite_concat_step, STYPE = text)""",
]

_SUMS = [
    r"""CREATE OR REPLACE FUNCTION public._sqlite_count_true(total bigint, value boolean)
        RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN value IS NULL THEN total ELSE coalesce(total, 0) + value::integer END
        $$""",
    r"""CREATE OR REPLACE AGGREGATE public.sum(boolean) (
        SFUNC = public._sqlite_count_true, STYPE = bigint)""",
    r"""CREATE OR REPLACE FUNCTION public._sqlite_total_step(total double precision,
            value double precision)
        RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT total + coalesce(value, 0)
        $$""",
    r"""CREATE OR REPLACE AGGREGATE public.total(double precision) (
        SFUNC = public._sqlite_total_step, STYPE = double precision, INITCOND = '0')""",
    r"""CREATE OR REPLACE FUNCTION public._sqlite_total_step(total double precision,
            value boolean)
        RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT total + coalesce(value::integer, 0)
        $$""",
    r"""CREATE OR REPLACE AGGREGATE public.total(boolean) (
        SFUNC = public._sqlite_total_step, STYPE = double precision, INITCOND = '0')""",
]

_SCALARS = [
    r"""CREATE OR REPLACE FUNCTION public.instr(haystack text, needle text) RETURNS integer
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) $$""",
    *[rf"""CREATE OR REPLACE FUNCTION public.{name}(a anycompatible, b anycompatible{more})
        RETURNS anycompatible LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN a IS NULL OR b IS NULL{more_null} THEN NULL
                    ELSE {pick}(a, b{more_args}) END
        $$"""
      for name, pick in (("max", "greatest"), ("min", "least"))
      for more, more_null, more_args in (("", "", ""),
                                         (", c anycompatible", " OR c IS NULL", ", c"))],
]

COMPAT_FUNCTIONS: list[str] = [
    *DATE_FUNCTIONS,
    _REAL, _JSON_LITERAL, _JSON_VALUE, _JSON_TYPE, _JSON_EACH, _JSON_EXTRACT_PATH, _JSON_EXTRACT,
    *_JSON_OBJECT, *_JSON_GROUP_ARRAY, *_GROUP_CONCAT, *_SUMS, *_SCALARS,
]
