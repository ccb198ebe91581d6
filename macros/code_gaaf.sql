{#- G5: a value in its code list stays; anything else becomes the list's onbekend code, or null without one. -#}
{% macro code_gaaf(column, codelijst) -%}
    coalesce(
        (select c.code from {{ ref('codes') }} as c where c.codelijst = '{{ codelijst }}' and c.code = {{ column }}),
        (
            select c.code from {{ ref('codes') }} as c
            where c.codelijst = '{{ codelijst }}' and lower(c.omschrijving) like '%onbekend%'
        )
    )
{%- endmacro %}
