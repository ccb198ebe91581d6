{#- One column per named count of int_regiotellingen_berekend (`relation`): its number, 0 where it has no row. -#}
{% macro telling_kolommen(namen, relation) -%}
    {%- set columns = [] -%}
    {%- for naam in namen -%}
        {%- do columns.append('coalesce(max(' ~ relation ~ '.aantal) filter (where ' ~ relation ~ ".telling = '"
            ~ naam ~ "'), 0) as " ~ naam) -%}
    {%- endfor -%}
    {{ columns | join(',\n        ') }}
{%- endmacro %}
