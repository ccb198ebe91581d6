{#- A flag field counts only when it is n characters of 0/1 and not all zeros; otherwise onbekend (G5). -#}
{% macro flag_valid(column, n) -%}
    coalesce(regexp_full_match({{ column }}, '[01]{{ '{' ~ n ~ '}' }}') and {{ column }} <> repeat('0', {{ n }}), false)
{%- endmacro %}
