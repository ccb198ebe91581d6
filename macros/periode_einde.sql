{#- The last day of a half-year given as text JJJJHn (2020H1 -> 2020-06-30). -#}
{% macro periode_einde(verslagperiode) -%}
    make_date(
        cast(left({{ verslagperiode }}, 4) as integer),
        case when right({{ verslagperiode }}, 1) = '1' then 6 else 12 end,
        case when right({{ verslagperiode }}, 1) = '1' then 30 else 31 end
    )
{%- endmacro %}
