{#-
    The fields of a record type (every version of the layout, as the raw tables hold them) as a list of
    {veld, type, lengte, codelijst, code_check, in_alle_versies}, read at compile time from the one home of the
    layout (loaders/data/layout.csv through loaders/layout.py: the dbt plugin's vt_layout()). Empty while dbt
    parses (nothing is executed then).
-#}
{% macro layout_velden(recordtype) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set layout = fromjson(run_query('select vt_layout()').columns[0].values()[0]) -%}
    {%- if recordtype not in layout -%}
        {{ exceptions.raise_compiler_error('the layout has no record type ' ~ recordtype) }}
    {%- endif -%}
    {{ return(layout[recordtype]) }}
{%- endmacro %}
