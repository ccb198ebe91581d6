{#-
    One column per named count of int_regiotellingen_berekend (`relation`): its number, 0 where it has no row,
    NULL where `volledig` (an SQL boolean) is false: a region without a delivery has no data, not zero.
-#}
{% macro telling_kolommen(namen, relation, volledig) -%}
    {%- set columns = [] -%}
    {%- for naam in namen -%}
        {%- do columns.append('case when ' ~ volledig ~ ' then coalesce(max(' ~ relation ~ '.aantal) filter (where '
            ~ relation ~ ".telling = '" ~ naam ~ "'), 0) end as " ~ naam) -%}
    {%- endfor -%}
    {{ columns | join(',\n        ') }}
{%- endmacro %}
