{#-
    The columns of a flag field, as a list: one boolean per code (prefix_1 .. prefix_n), null when the field is
    onbekend, and prefix_nul_een: the field holds only 0 and 1 (what the kwaliteitsrapport checks, KR13).
-#}
{% macro flag_columns(column, prefix, n) -%}
    {%- set columns = [] -%}
    {%- for i in range(1, n + 1) -%}
        {%- do columns.append('case when ' ~ flag_valid(column, n) ~ " then substr(" ~ column ~ ', ' ~ i
            ~ ", 1) = '1' end as " ~ prefix ~ '_' ~ i) -%}
    {%- endfor -%}
    {%- do columns.append('coalesce(regexp_full_match(' ~ column ~ ", '[01]{" ~ n ~ "}'), false) as "
        ~ prefix ~ '_nul_een') -%}
    {{ return(columns) }}
{%- endmacro %}
