{#- A date as CBS's A8 text JJJJMMDD; null stays null. -#}
{% macro ymd(column) -%}
    strftime({{ column }}, '%Y%m%d')
{%- endmacro %}
