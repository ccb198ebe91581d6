{#-
    dbt creates the schemas of the selected models before on-run-start; when the guard stops the run, the
    release schema it created for a release that does not exist is dropped again (only if it holds nothing).
-#}
{% macro drop_empty_schema(nodes) -%}
    {%- set schemas = [] -%}
    {%- for node in nodes if node.schema != target.schema and node.schema not in schemas -%}
        {%- do schemas.append(node.schema) -%}
    {%- endfor -%}
    {%- for schema in schemas -%}
        {%- set n = run_query("select count(*) from information_schema.tables where table_schema = "
            ~ sql_text(schema)).columns[0].values()[0] -%}
        {%- if n == 0 -%}
            {%- do run_query("drop schema if exists " ~ adapter.quote(schema)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
