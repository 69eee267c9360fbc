"""What the schema file keeps of pg_dump's output: the schema, not the run that printed it."""

from __future__ import annotations

from shop.db.schema import normalise, recorded_major

DUMP = """\
--
-- PostgreSQL database dump
--

\\restrict hof1puA8pRzZHzEMD3fM588QY8e3Fejr7WfDJ7d8ADHXjBVrtgrA1BrttcBlbqJ

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;



CREATE FUNCTION public.f() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
SET maintenance_work_mem = '256MB';
END;
$$;

SET default_table_access_method = heap;

\\unrestrict hof1puA8pRzZHzEMD3fM588QY8e3Fejr7WfDJ7d8ADHXjBVrtgrA1BrttcBlbqJ
"""


def test_versions_session_settings_and_restrict_keys_are_dropped() -> None:
    assert normalise(DUMP) == (
        "--\n-- PostgreSQL database dump\n--\n\n"
        "CREATE FUNCTION public.f() RETURNS void\n    LANGUAGE plpgsql\n    AS $$\n"
        "BEGIN\nSET maintenance_work_mem = '256MB';\nEND;\n$$;\n"
    )


def test_the_file_records_which_postgresql_printed_it() -> None:
    header = (
        "-- The database schema as migrations/ leave it: pg_dump --schema-only of PostgreSQL 15."
    )
    assert recorded_major(header) == 15
    assert recorded_major("CREATE TABLE t ();") is None
