{#-
    The measures of a publication table (kerncijfers, indicatoren) in publication order, as {maat, teller, noemer},
    read at compile time from their one home, the seed file loaders/data/publicatie_maten.csv (through the dbt
    plugin's vt_maten()): the models need no loaded seed to run.
-#}
{% macro publicatie_maten(tabel) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(fromjson(run_query("select vt_maten('" ~ tabel ~ "')").columns[0].values()[0])) }}
{%- endmacro %}
