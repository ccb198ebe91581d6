{#- A delivered JJJJMMDD field as a date; blank or not a real calendar date becomes null (G1 flags it). -#}
{% macro date_value(column) -%}
    try_strptime(nullif(trim({{ column }}), ''), '%Y%m%d')::date
{%- endmacro %}
