{#- The rows of a per-region count CTE plus a row vt_code = 'NL' per half-year with their sums. -#}
{% macro met_nl_totaal(cte, measures) -%}
    select
        verslagperiode,
        vt_code,
        {% for m in measures %}{{ m }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ cte }}
    union all
    select
        verslagperiode,
        'NL' as vt_code,
        {% for m in measures %}cast(sum({{ m }}) as bigint) as {{ m }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ cte }}
    group by verslagperiode
{%- endmacro %}
