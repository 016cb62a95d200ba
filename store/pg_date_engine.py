"""The engine of SQLite's date and time functions in PostgreSQL (``store.pg_dates``): a
port of SQLite 3.40's ``date.c`` that turns a time value and its modifiers into a Julian
day in milliseconds and its fields (``public._sqlite_time``), NULL where SQLite gives NULL,
never an error.
"""

from __future__ import annotations

# What SQLite's parsers accept. PostgreSQL's regular expressions are quick to match but
# slow to capture groups with, so fields are cut out by position once a match shows where.
_SPACE = r"[ \t\n\v\f\r]"  # sqlite3Isspace()
_SPACES = r"E' \t\n\x0B\f\r'"  # the same, to trim
_SPACES_OR_T = r"E' \t\n\x0B\f\rT'"  # what may part a date from its time
_NUMBER = rf"^{_SPACE}*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?{_SPACE}*$"  # AtoF
_NUMBER_PREFIX = r"^.[^: \t\n\v\f\r]*"  # a modifier's number, before a unit or a time
_LAST_MS = 464269060799999  # the Julian day of 9999-12-31 23:59:59.999, times 86,400,000

# The Julian day (times 86,400,000) of a date and time, NULL when the year is out of range
# (SQLite's computeJD). A NULL year means 2000-01-01, a NULL hour no time of day.
_JD = """
CREATE OR REPLACE FUNCTION public._sqlite_jd(y integer, mo integer, d integer,
    h integer, mi integer, s double precision, tz integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  a integer;
  b integer;
  jd bigint;
BEGIN
  IF y IS NULL THEN y := 2000; mo := 1; d := 1; END IF;
  IF y < -4713 OR y > 9999 THEN RETURN NULL; END IF;
  IF mo <= 2 THEN y := y - 1; mo := mo + 12; END IF;
  a := y / 100;
  b := 2 - a + a / 4;
  jd := (36525 * (y + 4716) / 100 + 306001 * (mo + 1) / 10000 + d + b)::bigint * 86400000
        - 131716800000;
  IF h IS NOT NULL THEN
    jd := jd + h * 3600000 + mi * 60000 + trunc(s * 1000 + 0.5)::bigint
          - coalesce(tz, 0) * 60000;
  END IF;
  RETURN jd;
END $$"""

# Year, month and day of a Julian day (computeYMD).
_YMD = """
CREATE OR REPLACE FUNCTION public._sqlite_ymd(jd bigint,
    OUT y integer, OUT mo integer, OUT d integer)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  z integer := (jd + 43200000) / 86400000;
  a integer;
  b integer;
  c integer;
  dd integer;
  e integer;
BEGIN
  a := trunc((z - 1867216.25::float8) / 36524.25::float8);
  a := z + 1 + a - a / 4;
  b := a + 1524;
  c := trunc((b - 122.1::float8) / 365.25::float8);
  dd := 36525 * (c & 32767) / 100;
  e := trunc((b - dd) / 30.6001::float8);
  d := b - dd - trunc(30.6001::float8 * e)::integer;
  mo := CASE WHEN e < 14 THEN e - 1 ELSE e - 13 END;
  y := CASE WHEN mo > 2 THEN c - 4716 ELSE c - 4715 END;
END $$"""

# Hour, minute and seconds of a Julian day (computeHMS).
_HMS = """
CREATE OR REPLACE FUNCTION public._sqlite_hms(jd bigint,
    OUT h integer, OUT mi integer, OUT s double precision)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  ms integer := (jd + 43200000) % 86400000;
  whole integer;
BEGIN
  s := ms / 1000.0::float8;
  whole := trunc(s);
  s := s - whole;
  h := whole / 3600;
  whole := whole - h * 3600;
  mi := whole / 60;
  s := s + (whole - mi * 60);
END $$"""

# ``HH:MM[:SS[.F…]]`` with an optional offset or ``Z`` (parseHhMmSs); h is NULL when the
# text is no time.
_PARSE_TIME = f"""
CREATE OR REPLACE FUNCTION public._sqlite_parse_time(value text, OUT h integer,
    OUT mi integer, OUT s double precision, OUT tz integer, OUT tz_set boolean)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  rest text := substr(value, 6);
  digits text;
  fraction double precision := 0;
  places integer := 0;
BEGIN
  IF value !~ '^[0-9]{{2}}:[0-9]{{2}}' OR left(value, 2)::integer > 24
     OR substr(value, 4, 2)::integer > 59 THEN
    RETURN;
  END IF;
  s := 0;
  IF left(rest, 1) = ':' THEN
    IF rest !~ '^:[0-5][0-9]' THEN RETURN; END IF;
    s := substr(rest, 2, 2)::integer;
    rest := substr(rest, 4);
    IF rest ~ '^[.][0-9]' THEN  -- as SQLite sums the digits, in double precision
      digits := substr(rest, 2);
      rest := ltrim(digits, '0123456789');
      digits := left(digits, length(digits) - length(rest));
      IF length(digits) <= 15 THEN
        fraction := digits::float8 / 10::float8 ^ length(digits);
      ELSE
        FOREACH digits IN ARRAY string_to_array(left(digits, 300), NULL) LOOP
          fraction := fraction * 10 + digits::integer;
          places := places + 1;
        END LOOP;
        fraction := fraction / 10::float8 ^ places;
      END IF;
    END IF;
  END IF;
  rest := ltrim(rest, {_SPACES});
  tz := 0;
  tz_set := rest <> '';
  IF left(rest, 1) IN ('Z', 'z') THEN
    rest := substr(rest, 2);
  ELSIF left(rest, 1) IN ('+', '-') AND substr(rest, 2, 5) ~ '^(0[0-9]|1[0-4]):[0-5][0-9]$' THEN
    tz := (substr(rest, 2, 2)::integer * 60 + substr(rest, 5, 2)::integer)
          * CASE left(rest, 1) WHEN '-' THEN -1 ELSE 1 END;
    rest := substr(rest, 7);
  END IF;
  IF ltrim(rest, {_SPACES}) <> '' THEN RETURN; END IF;
  h := left(value, 2)::integer;
  mi := substr(value, 4, 2)::integer;
  s := s + fraction;
END $$"""

# A number as SQLite's AtoF reads a whole string: NULL unless the text is one; beyond
# double precision's range it is infinite (and then no valid day).
_TO_NUMBER = f"""
CREATE OR REPLACE FUNCTION public._sqlite_number(value text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  exact numeric;
BEGIN
  IF value !~ '{_NUMBER}' THEN RETURN NULL; END IF;
  IF length(value) > 40 THEN  -- so long that numeric may refuse it
    BEGIN
      exact := trim(value, {_SPACES})::numeric;
    EXCEPTION WHEN program_limit_exceeded OR numeric_value_out_of_range THEN
      RETURN CASE WHEN value ~ '[eE][+]?[0-9]' THEN 'Infinity'::float8 ELSE 0 END
             * CASE WHEN value ~ '^{_SPACE}*-' THEN -1 ELSE 1 END;
    END;
  ELSE
    exact := trim(value, {_SPACES})::numeric;
  END IF;
  IF abs(exact) >= 1e300 THEN RETURN sign(exact) * 'Infinity'::float8; END IF;
  IF abs(exact) < 1e-300 THEN RETURN 0; END IF;
  RETURN exact::float8;
END $$"""


# The steps of date.c that its functions share, written out where they are used. Each
# leaves the function (every result NULL) where SQLite would give NULL.
_CLEAR = "valid_ymd := false; valid_hms := false; valid_tz := false;"  # clearYMD_HMS_TZ
_COMPUTE_JD = f"""
    IF NOT valid_jd THEN
      IF raw_s THEN RETURN; END IF;
      w_jd := public._sqlite_jd(CASE WHEN valid_ymd THEN w_y END, w_mo, w_d,
                                CASE WHEN valid_hms THEN w_h END, w_mi, w_s,
                                CASE WHEN valid_tz THEN tz END);
      IF w_jd IS NULL THEN RETURN; END IF;
      valid_jd := true;
      IF valid_hms AND valid_tz THEN {_CLEAR} END IF;
    END IF;"""
# localtime and utc start over from an invalid time rather than give NULL: datetimeError()
_COMPUTE_JD_OR_RESET = f"""
    IF NOT valid_jd THEN
      w_jd := CASE WHEN NOT raw_s THEN public._sqlite_jd(
          CASE WHEN valid_ymd THEN w_y END, w_mo, w_d, CASE WHEN valid_hms THEN w_h END,
          w_mi, w_s, CASE WHEN valid_tz THEN tz END) END;
      valid_jd := w_jd IS NOT NULL;
      IF NOT valid_jd THEN
        w_jd := 0; w_y := 0; w_mo := 0; w_d := 0; w_h := 0; w_mi := 0; w_s := 0;
        raw_s := false; tz := 0; tz_set := false; {_CLEAR}
      ELSIF valid_hms AND valid_tz THEN
        {_CLEAR}
      END IF;
    END IF;"""
_COMPUTE_YMD = f"""
    IF NOT valid_ymd THEN
      IF NOT valid_jd THEN
        w_y := 2000; w_mo := 1; w_d := 1;
      ELSIF w_jd < 0 OR w_jd > {_LAST_MS} THEN
        RETURN;
      ELSE
        SELECT * INTO w_y, w_mo, w_d FROM public._sqlite_ymd(w_jd);
      END IF;
      valid_ymd := true;
    END IF;"""
_COMPUTE_HMS = f"""
    IF NOT valid_hms THEN
      {_COMPUTE_JD}
      SELECT * INTO w_h, w_mi, w_s FROM public._sqlite_hms(w_jd);
      raw_s := false;
      valid_hms := true;
    END IF;"""

# ``value`` with its modifiers applied (isDate, parseDateOrTime, parseModifier): the Julian
# day in milliseconds and its fields, every one NULL where SQLite gives NULL.
_TIME = f"""
CREATE OR REPLACE FUNCTION public._sqlite_time(value text, modifiers text[],
    OUT jd bigint, OUT y integer, OUT mo integer, OUT d integer,
    OUT h integer, OUT mi integer, OUT s double precision)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  w_jd bigint;
  valid_jd boolean := false;
  raw_s boolean := false;
  raw_value double precision;
  w_y integer;
  w_mo integer;
  w_d integer;
  valid_ymd boolean := false;
  w_h integer;
  w_mi integer;
  w_s double precision;
  valid_hms boolean := false;
  tz integer := 0;
  valid_tz boolean := false;
  tz_set boolean := false;
  t record;
  modifier text;
  place integer := 0;
  word text;
  r double precision;
  n integer;
  shift bigint;
BEGIN
  IF value IS NULL THEN RETURN; END IF;
  IF value ~ '^-?[0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' THEN  -- YYYY-MM-DD
    n := CASE WHEN left(value, 1) = '-' THEN 1 ELSE 0 END;
    word := ltrim(substr(value, n + 11), {_SPACES_OR_T});
    t := public._sqlite_parse_time(word);
    IF t.h IS NOT NULL OR word = '' THEN
      w_y := substr(value, n + 1, 4)::integer * (1 - 2 * n);
      w_mo := substr(value, n + 6, 2)::integer;
      w_d := substr(value, n + 9, 2)::integer;
      valid_ymd := true;
    END IF;
  END IF;
  IF NOT valid_ymd THEN
    t := public._sqlite_parse_time(value);
  END IF;
  IF t.h IS NOT NULL THEN
    w_h := t.h; w_mi := t.mi; w_s := t.s; tz := t.tz; tz_set := t.tz_set;
    valid_hms := true;
    valid_tz := tz <> 0;
    IF valid_tz AND valid_ymd THEN {_COMPUTE_JD} END IF;
  ELSIF NOT valid_ymd THEN
    IF lower(value) = 'now' THEN
      w_jd := floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint
              + 210866760000000;
      valid_jd := true;
    ELSE
      raw_value := public._sqlite_number(value);
      IF raw_value IS NULL THEN RETURN; END IF;
      raw_s := true;
      IF raw_value >= 0 AND raw_value < 5373484.5 THEN
        w_jd := trunc(raw_value * 86400000.0 + 0.5)::bigint;
        valid_jd := true;
      END IF;
    END IF;
  END IF;

  FOREACH modifier IN ARRAY coalesce(modifiers, ARRAY[]::text[]) LOOP
    place := place + 1;
    IF modifier IS NULL THEN RETURN; END IF;
    word := lower(modifier);
    IF word = 'localtime' OR (word = 'utc' AND NOT tz_set) THEN  -- local time is UTC
      {_COMPUTE_JD_OR_RESET}
      IF word = 'utc' THEN
        {_CLEAR}
        valid_jd := true; raw_s := false; tz_set := true;
        CONTINUE;
      END IF;
      shift := w_jd;  -- toLocaltime: the fields of the time, to the second
      IF shift < 210866760000000 OR shift > 213014145600000 THEN
        -- outside 1970-2038: the same day of a year like it near 2000
        IF NOT valid_ymd AND (w_jd < 0 OR w_jd > {_LAST_MS}) THEN
          w_y := 0; w_mo := 1; w_d := 1; w_h := 0; w_mi := 0; w_s := 0;  -- SQLite's fallback
        ELSE
          {_COMPUTE_YMD}
          {_COMPUTE_HMS}
        END IF;
        n := 2000 + w_y % 4 - w_y;
        w_jd := public._sqlite_jd(w_y + n, w_mo, w_d, w_h, w_mi, w_s, NULL);
      ELSE
        n := 0;
      END IF;
      SELECT * INTO w_y, w_mo, w_d FROM public._sqlite_ymd(w_jd / 1000 * 1000);
      SELECT * INTO w_h, w_mi, w_s FROM public._sqlite_hms(w_jd / 1000 * 1000);
      w_y := w_y - n;
      w_s := w_s + (shift % 1000) * 0.001::float8;
      valid_ymd := true; valid_hms := true;
      valid_jd := false; raw_s := false; valid_tz := false;
    ELSIF word = 'utc' THEN
      NULL;
    ELSIF word = 'unixepoch' AND raw_s AND place = 1 THEN  -- right after a number only
      r := raw_value * 1000.0 + 210866760000000.0;
      IF NOT (r >= 0 AND r < 464269060800000.0) THEN RETURN; END IF;
      {_CLEAR}
      w_jd := trunc(r)::bigint;
      valid_jd := true;
      raw_s := false;
    ELSIF word ~ '^weekday ' THEN
      r := public._sqlite_number(substr(modifier, 9));
      IF r IS NULL OR r <> trunc(r) OR r < 0 OR r >= 7 THEN RETURN; END IF;
      {_COMPUTE_YMD}
      {_COMPUTE_HMS}
      valid_tz := false;
      valid_jd := false;
      {_COMPUTE_JD}
      shift := ((w_jd + 129600000) / 86400000) % 7;
      IF shift > r THEN shift := shift - 7; END IF;
      w_jd := w_jd + (r::bigint - shift) * 86400000;
      {_CLEAR}
    ELSIF word ~ '^start of ' THEN
      IF NOT (valid_jd OR valid_ymd OR valid_hms) THEN RETURN; END IF;
      {_COMPUTE_YMD}
      CASE substr(word, 10)
        WHEN 'month' THEN w_d := 1;
        WHEN 'year' THEN w_mo := 1; w_d := 1;
        WHEN 'day' THEN NULL;
        ELSE RETURN;
      END CASE;
      valid_hms := true; w_h := 0; w_mi := 0; w_s := 0;
      raw_s := false; valid_tz := false; valid_jd := false;
    ELSIF word ~ '^[-+0-9]' THEN
      word := substring(modifier FROM '{_NUMBER_PREFIX}');
      r := public._sqlite_number(word);
      IF r IS NULL THEN RETURN; END IF;
      word := substr(modifier, length(word) + 1);
      IF left(word, 1) = ':' THEN  -- ±HH:MM[:SS.F…], a time of day added or taken away
        t := public._sqlite_parse_time(CASE WHEN modifier ~ '^[0-9]' THEN modifier
                                            ELSE substr(modifier, 2) END);
        IF t.h IS NULL THEN RETURN; END IF;
        shift := public._sqlite_jd(NULL, NULL, NULL, t.h, t.mi, t.s,
                                   CASE WHEN t.tz <> 0 THEN t.tz END) - 43200000;
        shift := shift - shift / 86400000 * 86400000;
        IF left(modifier, 1) = '-' THEN shift := -shift; END IF;
        {_COMPUTE_JD}
        {_CLEAR}
        w_jd := w_jd + shift;
        CONTINUE;
      END IF;
      word := ltrim(word, {_SPACES});  -- NNN units
      n := octet_length(word);
      IF n > 10 OR n < 3 THEN RETURN; END IF;
      IF lower(right(word, 1)) = 's' THEN word := left(word, -1); END IF;
      word := lower(word);
      {_COMPUTE_JD}
      IF NOT (word = 'second' AND abs(r) < 464269060800.0
              OR word = 'minute' AND abs(r) < 7737817680.0
              OR word = 'hour' AND abs(r) < 128963628.0
              OR word = 'day' AND abs(r) < 5373485.0
              OR word = 'month' AND abs(r) < 176546.0
              OR word = 'year' AND abs(r) < 14713.0) THEN
        RETURN;
      END IF;
      IF word IN ('month', 'year') THEN
        {_COMPUTE_YMD}
        {_COMPUTE_HMS}
        IF word = 'month' THEN
          w_mo := w_mo + trunc(r)::integer;
          n := CASE WHEN w_mo > 0 THEN (w_mo - 1) / 12 ELSE (w_mo - 12) / 12 END;
          w_y := w_y + n;
          w_mo := w_mo - n * 12;
        ELSE
          w_y := w_y + trunc(r)::integer;
        END IF;
        valid_jd := false;
        r := r - trunc(r);
        {_COMPUTE_JD}
      END IF;
      w_jd := w_jd + trunc(r * CASE word WHEN 'second' THEN 1000.0 WHEN 'minute' THEN 60000.0
                                         WHEN 'hour' THEN 3600000.0 WHEN 'day' THEN 86400000.0
                                         WHEN 'month' THEN 2592000000.0
                                         ELSE 31536000000.0 END::float8
                           + CASE WHEN r < 0 THEN -0.5 ELSE 0.5 END)::bigint;
      {_CLEAR}
    ELSE
      RETURN;
    END IF;
  END LOOP;

  {_COMPUTE_JD}
  IF w_jd < 0 OR w_jd > {_LAST_MS} THEN RETURN; END IF;
  {_COMPUTE_YMD}
  {_COMPUTE_HMS}
  jd := w_jd; y := w_y; mo := w_mo; d := w_d; h := w_h; mi := w_mi; s := w_s;
END $$"""

ENGINE: list[str] = [_JD, _YMD, _HMS, _PARSE_TIME, _TO_NUMBER, _TIME]
