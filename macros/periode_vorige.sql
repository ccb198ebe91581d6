{#- The half-year before one given as text JJJJHn (2020H1 -> 2019H2); loaders/periods.py Periode.previous is its twin. -#}
{% macro periode_vorige(verslagperiode) -%}
    case
        when right({{ verslagperiode }}, 1) = '2' then left({{ verslagperiode }}, 4) || 'H1'
        else cast(cast(left({{ verslagperiode }}, 4) as integer) - 1 as varchar) || 'H2'
    end
{%- endmacro %}
