{#- A query of the measures (macros/publicatie_maten.sql) as rows (maat, teller, noemer). -#}
{% macro maten_tabel(maten) -%}
    {%- set rows = [] -%}
    {%- for m in maten -%}
        {%- do rows.append("('" ~ m.maat ~ "', '" ~ m.teller ~ "', '" ~ m.noemer ~ "')") -%}
    {%- endfor -%}
    select * from (values {{ rows | join(', ') if rows else "(null, null, null)" }}) as maten (maat, teller, noemer)
{%- endmacro %}
