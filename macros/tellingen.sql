{#-
    The counts of a per-region CTE (one row per half-year and region, one column per count) as rows
    (verslagperiode, vt_code, telling, aantal), so that every count of the publication is one table.
-#}
{% macro tellingen(cte, namen) -%}
    {%- for naam in namen %}
    select
        verslagperiode,
        vt_code,
        '{{ naam }}' as telling,
        {{ naam }} as aantal
    from {{ cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
