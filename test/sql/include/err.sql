\set ECHO none
-- err(cmd): runs cmd and shows its error in one place: "SQLSTATE: message", then a "DETAIL: " and a
-- "HINT: " line when the error has them ('ok' when cmd succeeds; what cmd did is rolled back). The pg_regress tests include it with
--     \getenv abs_srcdir PG_ABS_SRCDIR
--     \set err_sql :abs_srcdir '/sql/include/err.sql'
--     \i :err_sql
-- (pg_regress feeds the test to psql on stdin, so \ir would look in the current directory; it
-- sets PG_ABS_SRCDIR to its --inputdir, test/). Not echoed: the expected outputs show the calls.
CREATE FUNCTION err(cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
    hint text;
BEGIN
    EXECUTE cmd;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM
           || CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END
           || CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END;
END $$;
\set ECHO all
