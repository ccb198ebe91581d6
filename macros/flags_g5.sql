{#- G5 flag for a flag field: delivered, but not 0/1 only or all zeros (so onbekend). -#}
{% macro flags_g5(prefix) -%}
    ({{ prefix }}_ingevuld and {{ prefix }}_1 is null)
{%- endmacro %}
