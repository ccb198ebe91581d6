{#- G5 flag for one code field ([alias.]veld of `recordtype`): a delivered value that is not in its code list. -#}
{% macro code_g5(column, recordtype) -%}
    {%- set codelijst = layout_veld(recordtype, column.split('.')[-1]).codelijst -%}
    ({{ column }} is not null and {{ column }} not in (select c.code from {{ ref('codes') }} as c where c.codelijst = '{{ codelijst }}'))
{%- endmacro %}
