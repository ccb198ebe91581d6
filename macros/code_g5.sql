{#- G5 flag for one code field: a delivered value that is not in its code list (macros/codes_g5.sql gives each field's, from the layout). -#}
{% macro code_g5(column, codelijst) -%}
    ({{ column }} is not null and {{ column }} not in (select c.code from {{ ref('codes') }} as c where c.codelijst = '{{ codelijst }}'))
{%- endmacro %}
