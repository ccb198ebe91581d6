{#- A value as a SQL string literal, quotes doubled (for values that come from --vars or the database). -#}
{% macro sql_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
