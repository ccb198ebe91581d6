{#- Values as a DuckDB list literal of SQL strings: ['2020H1', '2020H2']. -#}
{% macro sql_list(values) -%}
    [{% for value in values %}{{ sql_text(value) }}{{ ", " if not loop.last }}{% endfor %}]
{%- endmacro %}
