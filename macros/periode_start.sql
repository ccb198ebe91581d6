{#- The first day of a half-year given as text JJJJHn (2020H1 -> 2020-01-01). -#}
{% macro periode_start(verslagperiode) -%}
    make_date(
        cast(left({{ verslagperiode }}, 4) as integer),
        case when right({{ verslagperiode }}, 1) = '1' then 1 else 7 end,
        1
    )
{%- endmacro %}
