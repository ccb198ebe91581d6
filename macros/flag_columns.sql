{#- One boolean column per code of a flag field (prefix_1 .. prefix_n); null when the field is onbekend. -#}
{% macro flag_columns(column, prefix, n) -%}
    {%- for i in range(1, n + 1) %}
        case when {{ flag_valid(column, n) }} then substr({{ column }}, {{ i }}, 1) = '1' end as {{ prefix }}_{{ i }},
    {%- endfor %}
{%- endmacro %}
