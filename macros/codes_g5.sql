{#-
    The G5 flag of a record: any code field of `recordtype` not in its code list, or any flag field delivered
    but not 0/1 only or all zeros; the fields and their checks come from the layout (Field.code_check), the
    same ones the kwaliteitsrapport's KR13 checks. `alias` is the relation with the staged columns.
-#}
{% macro codes_g5(recordtype, alias) -%}
    {%- set parts = [] -%}
    {%- for f in layout_velden(recordtype) -%}
        {%- if f.code_check == 'code' -%}
            {%- do parts.append(code_g5(alias ~ '.' ~ f.veld, f.codelijst)) -%}
        {%- elif f.code_check == 'vlaggen' -%}
            {%- do parts.append('(' ~ alias ~ '.' ~ f.veld ~ '_ingevuld and ' ~ alias ~ '.' ~ f.veld ~ '_1 is null)') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ parts | join('\n        or ') if parts else 'false' }}
{%- endmacro %}
