{#- G1 flag: the delivered date was filled but is not a real date, or lies after the period. -#}
{% macro date_g1(column) -%}
    ({{ column }}_ingevuld and ({{ column }} is null or {{ column }} > periode_einde))
{%- endmacro %}
