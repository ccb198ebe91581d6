{#-
    The renamed columns of a staging model, one rule per field type of the layout: text trimmed with blank as
    null (A, N), a date with a flag that it was filled (D), a boolean per flag (F, flag_columns.sql), the
    organisation's code trimmed; the BSN only as the loader's pseudonym and status. A field that not every
    layout version has also gets <veld>_in_layout: the raw column is NULL for records of a version without it.
    Every field but the BSN also keeps its text as delivered, untrimmed, as <veld>_geleverd: the quality reports
    mirror it and show it; no model computes with it. A field added to loaders/data/layout.csv thus reaches staging
    with no model change (vt_warehouse/layout_docs.py names the same columns for the YAML).
-#}
{% macro staged_fields(recordtype) -%}
    {%- set columns = [] -%}
    {%- for f in layout_velden(recordtype) if f.veld != 'recordtype' -%}
        {%- if f.veld == 'vt_code' -%}
            {%- do columns.append('trim(vt_code) as vt_code') -%}
        {%- elif f.veld == 'bsn' -%}
            {%- do columns.extend(['bsn_pseudoniem', 'bsn_status']) -%}
        {%- elif f.type == 'D' -%}
            {%- do columns.append(date_value(f.veld) ~ ' as ' ~ f.veld) -%}
            {%- do columns.append(text_value(f.veld) ~ ' is not null as ' ~ f.veld ~ '_ingevuld') -%}
        {%- elif f.type == 'F' -%}
            {%- do columns.extend(flag_columns(f.veld, f.veld, f.lengte)) -%}
            {%- do columns.append(text_value(f.veld) ~ ' is not null as ' ~ f.veld ~ '_ingevuld') -%}
        {%- else -%}
            {%- do columns.append(text_value(f.veld) ~ ' as ' ~ f.veld) -%}
        {%- endif -%}
        {%- if not f.in_alle_versies -%}
            {#- the raw column: a table column binds before a select alias -#}
            {%- do columns.append(f.veld ~ ' is not null as ' ~ f.veld ~ '_in_layout') -%}
        {%- endif -%}
        {%- if f.veld != 'bsn' -%}
            {#- the text as delivered, for the reports that show and mirror it (the spiegelrapport, the findings) -#}
            {%- do columns.append(f.veld ~ ' as ' ~ f.veld ~ '_geleverd') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ columns | join(',\n        ') }}
{%- endmacro %}
