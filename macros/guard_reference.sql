{#- Part of guard_release: every year of the release has a gemeente list and a VT-regio list. -#}
{% macro guard_reference(release, jaren) -%}
    {%- set lists = [('gemeente_vt', 'gemeente list'), ('vt_regio', 'VT-regio list')] -%}
    {%- set gaps = {} -%}
    {%- for table, label in lists -%}
        {%- set src = graph.sources['source.vt_warehouse.referentie.' ~ table] -%}
        {%- set have = run_query("select distinct cast(jaar as integer) from " ~ src.relation_name).columns[0].values()
            if relation_exists(src.schema, src.name) else [] -%}
        {%- for jaar in jaren if jaar not in have -%}
            {%- do gaps.setdefault(jaar | string, []).append(label) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if gaps -%}
        {{ return(run_query(
            "select vt_referentie_ontbreekt(" ~ sql_text("release " ~ release ~ " cannot be built") ~ ", "
            ~ sql_text(tojson(gaps)) ~ ")").columns[0].values()[0]) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
