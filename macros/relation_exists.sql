{#-
    Whether a table or view `schema.name` exists (a relation dbt did not build in this run may be absent).
    Asked of the database, not adapter.get_relation: that one opens a transaction on the hook's connection,
    which dbt rolls back when the guard stops the run, and the guard's drop_empty_schema with it.
-#}
{% macro relation_exists(schema, name) -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables where table_schema = " ~ sql_text(schema)
        ~ " and table_name = " ~ sql_text(name)) -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}
