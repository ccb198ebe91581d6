{#- A delivered text field, trimmed; blank becomes null. -#}
{% macro text_value(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
