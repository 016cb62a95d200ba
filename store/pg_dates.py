"""SQLite's date and time functions for PostgreSQL: ``date``, ``datetime``, ``julianday``
and ``strftime``, giving what SQLite 3.40 gives for the same text.

Their engine (``store.pg_date_engine``) ports SQLite's ``date.c``: a time value
(``YYYY-MM-DD[ HH:MM[:SS[.F…]]][±HH:MM|Z]``, ``HH:MM…``, ``now`` or a Julian day number)
and modifiers (``±N days|hours|minutes|seconds|months|years``, ``±HH:MM[:SS]``, ``start
of day|month|year``, ``weekday N``, ``unixepoch``, ``utc``, ``localtime``) become a Julian
day in milliseconds, in UTC; bad input gives NULL, never an error. Its quirks are kept:
an offset of zero leaves the fields as written (``date('2023-02-30')`` is
``2023-02-30``), any other offset or modifier normalises them.
Local time is taken to be UTC (``localtime`` and ``utc`` only normalise). A time as the
store writes it (UTC, ``…+00:00``) skips the engine in ``date(x)`` and ``datetime(x)``,
which the planner inlines: a couple of microseconds a row rather than tens.

The functions are ``STABLE`` (``now`` is the statement's time) and take ``text``. A call
of ``date`` with one string literal, ``date('…')``, is PostgreSQL's cast to its date type
instead (a parameter, a column or more arguments are not): write ``date(CAST('…' AS
TEXT))``. A modifier that fails gives NULL even when ``utc`` or ``localtime`` follows,
where SQLite starts over from 2000-01-01.
"""

from __future__ import annotations

from store.pg_date_engine import ENGINE

# Integers as C's printf("%0Nd") writes them.
_PAD = """
CREATE OR REPLACE FUNCTION public._sqlite_pad(n bigint, width integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n < 0 THEN '-' || lpad((-n)::text, greatest(width - 1, length((-n)::text)), '0')
              ELSE lpad(n::text, greatest(width, length(n::text)), '0') END
$$"""

# Years as SQLite's date() and datetime() write them: four digits, a minus sign before.
_YEAR = """
CREATE OR REPLACE FUNCTION public._sqlite_year(y integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN y < 0 THEN '-' ELSE '' END || lpad((abs(y) % 10000)::text, 4, '0')
$$"""

# A positive double as C's printf("%.16g") writes it (the Julian day of %J): rounded from
# its exact value, m / 2^k = m * 5^k / 10^k.
_G16 = """
CREATE OR REPLACE FUNCTION public._sqlite_g16(value double precision) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  k integer;
  exact numeric;
BEGIN
  IF value = 0 THEN RETURN '0'; END IF;
  k := greatest(0, 54 - floor(ln(value) / ln(2))::integer);
  exact := (value * 2::float8 ^ k)::bigint;
  FOR i IN 1..k LOOP
    exact := exact * 5;
  END LOOP;
  exact := exact * ('1e-' || k)::numeric;
  RETURN regexp_replace(round(exact, 15 - floor(log(exact))::integer)::text,
                        '(\\.[0-9]*[1-9])0+$|\\.0*$', '\\1');
END $$"""

_STRFTIME = """
CREATE OR REPLACE FUNCTION public.strftime(format text, value text,
    VARIADIC modifiers text[]) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  t record;
  out text := '';
  i integer := 1;
  c text;
  day_of_year integer;
BEGIN
  IF format IS NULL THEN RETURN NULL; END IF;
  SELECT * INTO t FROM public._sqlite_time(value, modifiers);
  IF t.jd IS NULL THEN RETURN NULL; END IF;
  day_of_year := (t.jd - public._sqlite_jd(t.y, 1, 1, t.h, t.mi, t.s, NULL) + 43200000)
                 / 86400000;
  WHILE i <= length(format) LOOP
    c := substr(format, i, 1);
    IF c = '%' THEN
      i := i + 1;
      c := CASE substr(format, i, 1)
        WHEN 'd' THEN public._sqlite_pad(t.d, 2)
        WHEN 'f' THEN lpad(to_char(round(least(t.s, 59.999)::numeric, 3), 'FM990.000'), 6, '0')
        WHEN 'H' THEN public._sqlite_pad(t.h, 2)
        WHEN 'j' THEN public._sqlite_pad(day_of_year + 1, 3)
        WHEN 'J' THEN public._sqlite_g16(t.jd / 86400000.0::float8)
        WHEN 'm' THEN public._sqlite_pad(t.mo, 2)
        WHEN 'M' THEN public._sqlite_pad(t.mi, 2)
        WHEN 's' THEN (t.jd / 1000 - 210866760000)::text
        WHEN 'S' THEN public._sqlite_pad(trunc(t.s)::bigint, 2)
        WHEN 'w' THEN (((t.jd + 129600000) / 86400000) % 7)::text
        WHEN 'W' THEN public._sqlite_pad(
            (day_of_year + 7 - ((t.jd + 43200000) / 86400000) % 7) / 7, 2)
        WHEN 'Y' THEN public._sqlite_pad(t.y, 4)
        WHEN '%' THEN '%'
      END;
      IF c IS NULL THEN RETURN NULL; END IF;
    END IF;
    out := out || c;
    i := i + 1;
  END LOOP;
  RETURN out;
END $$"""


# A time the store writes (``2024-05-17T10:00:00+00:00``, ``…Z``, no offset, no time): its
# fields are what SQLite gives back, so date() and datetime() need not parse it. Hour 24,
# other offsets and year 9999 (which may round past the last valid day) take the long way.
_UTC_TIME = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
             r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?([Zz]|[+-]00:00)?)?$")
_IS_UTC_TIME = f"value ~ '{_UTC_TIME}' AND left(value, 4) <> '9999'"
_UTC_CLOCK = ("CASE WHEN length(value) = 10 THEN '00:00:00' "
              "WHEN substr(value, 17, 1) = ':' THEN substr(value, 12, 8) "
              "ELSE substr(value, 12, 5) || ':00' END")


def _functions(name: str, result: str, returns: str = "text", utc: str = "") -> list[str]:
    """SQLite's ``name(value, modifier…)``, ``name(value)`` and ``name()`` (now), giving
    ``result`` (an expression of the engine's row ``t``) or, for a time the store writes,
    ``utc`` (an expression of ``value``) where given."""
    head = f"CREATE OR REPLACE FUNCTION public.{name}"
    kind = f"RETURNS {returns} LANGUAGE sql STABLE PARALLEL SAFE"
    one = f"public._sqlite_{name}(value, NULL)"
    if utc:  # a single expression, which the planner inlines into the query
        one = f"CASE WHEN {_IS_UTC_TIME} THEN {utc} ELSE {one} END"
    return [f"""CREATE OR REPLACE FUNCTION public._sqlite_{name}(value text, modifiers text[])
                {kind} AS $$ SELECT {result} FROM public._sqlite_time(value, modifiers) t $$""",
            f"""{head}(value text, VARIADIC modifiers text[]) {kind}
                AS $$ SELECT public._sqlite_{name}(value, modifiers) $$""",
            f"{head}(value text) {kind} AS $$ SELECT {one} $$",
            f"{head}() {kind} AS $$ SELECT public._sqlite_{name}('now', NULL) $$"]


_DAY = ("public._sqlite_year(t.y) || '-' || lpad(t.mo::text, 2, '0') || '-' "
        "|| lpad(t.d::text, 2, '0')")
_CLOCK = ("lpad(t.h::text, 2, '0') || ':' || lpad(t.mi::text, 2, '0') || ':' "
          "|| lpad(trunc(t.s)::text, 2, '0')")

DATE_FUNCTIONS: list[str] = [
    *ENGINE, _PAD, _YEAR, _G16,
    *_functions("date", _DAY, utc="left(value, 10)"),
    *_functions("datetime", f"{_DAY} || ' ' || {_CLOCK}",
                utc=f"left(value, 10) || ' ' || {_UTC_CLOCK}"),
    *_functions("julianday", "t.jd / 86400000.0::float8", returns="double precision"),
    _STRFTIME,
    """CREATE OR REPLACE FUNCTION public.strftime(format text, value text) RETURNS text
       LANGUAGE sql STABLE PARALLEL SAFE AS
       $$ SELECT public.strftime(format, value, VARIADIC ARRAY[]::text[]) $$""",
]
