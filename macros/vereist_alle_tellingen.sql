{#-
    Stops the build, at compile time, when a measure of the seed publicatie_maten names a teller or noemer that
    no count model makes (`counts`: [(cte, [names])], macros/publicatie_tellingen.sql): without it the measure
    would be published as 0 or missing everywhere, silently. Every count made must also be used by a measure.
-#}
{% macro vereist_alle_tellingen(counts) -%}
    {%- if execute -%}
        {%- set made = [] -%}
        {%- for cte, names in counts -%}
            {%- do made.extend(names) -%}
        {%- endfor -%}
        {%- set needed = [] -%}
        {%- for tabel in ['kerncijfers', 'indicatoren'] -%}
            {%- for m in publicatie_maten(tabel) -%}
                {%- for name in [m['teller'], m['noemer']] if name -%}
                    {%- do needed.append(name) -%}
                    {%- if name not in made -%}
                        {{ exceptions.raise_compiler_error(
                            "measure " ~ m['maat'] ~ " of publicatie_maten needs the count " ~ name
                            ~ ", which no count model makes: add it to macros/publicatie_tellingen.sql"
                            ~ " and to the CTE that counts it") }}
                    {%- endif -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for name in made if name not in needed -%}
            {{ exceptions.raise_compiler_error(
                "the count models make the count " ~ name
                ~ ", which no measure of publicatie_maten uses: remove it, or add the measure") }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
