{#- One field of a record type from the layout (macros/layout_velden.sql); a compile error names a missing one. -#}
{% macro layout_veld(recordtype, veld) -%}
    {%- if not execute -%}
        {{ return({'veld': veld, 'type': 'A', 'lengte': 1, 'codelijst': none, 'code_check': none}) }}
    {%- endif -%}
    {%- for f in layout_velden(recordtype) if f.veld == veld -%}
        {{ return(f) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error('the layout has no field ' ~ recordtype ~ '.' ~ veld) }}
{%- endmacro %}
