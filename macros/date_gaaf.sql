{#- G1: a date that is not a real date, or after the end of the delivery's period, becomes null. -#}
{% macro date_gaaf(column) -%}
    case when {{ column }} <= periode_einde then {{ column }} end
{%- endmacro %}
