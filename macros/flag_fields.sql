{#- Every flag column (<veld>_1 .. <veld>_n) of the flag fields of `recordtype`, from `alias`, each followed by a comma. -#}
{% macro flag_fields(recordtype, alias=none) -%}
    {%- for f in layout_velden(recordtype) if f.type == 'F' -%}
        {%- for i in range(1, f.lengte + 1) %}
        {{ alias ~ '.' if alias }}{{ f.veld }}_{{ i }},
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro %}
