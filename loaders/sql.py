"""SQL helpers every module may use; they depend on nothing in the package."""

from __future__ import annotations

import duckdb


def sql_text(value: str) -> str:
    """A SQL text literal, for the few places that take no parameter (COPY's target, COMMENT ON, SQL text
    built for the quality rules)."""
    return "'" + value.replace("'", "''") + "'"


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether the table or view `schema.name` (or `name`, in main) exists."""
    schema, name = relation.split(".") if "." in relation else ("main", relation)
    return (
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchone()[0]
        > 0
    )
