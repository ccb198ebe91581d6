{#-
    Every count of `counts` ([(cte, [names])]) as rows (verslagperiode, vt_code, telling, aantal): the tellingen
    of each CTE, one union.
-#}
{% macro alle_tellingen(counts) -%}
    {%- for cte, namen in counts %}
    {{ tellingen(cte, namen) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
