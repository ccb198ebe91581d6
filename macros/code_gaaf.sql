{#-
    G5: a value in its code list stays; anything else becomes the list's onbekend code, or null without one.
    The code list is the field's in the layout (`column` is [alias.]veld of record type `recordtype`).
-#}
{% macro code_gaaf(column, recordtype) -%}
    {%- set codelijst = layout_veld(recordtype, column.split('.')[-1]).codelijst -%}
    coalesce(
        (select c.code from {{ ref('codes') }} as c where c.codelijst = '{{ codelijst }}' and c.code = {{ column }}),
        (
            select c.code from {{ ref('codes') }} as c
            where c.codelijst = '{{ codelijst }}' and lower(c.omschrijving) like '%onbekend%'
        )
    )
{%- endmacro %}
