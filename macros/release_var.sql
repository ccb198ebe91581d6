{#-
    The release or peildatum of this run (name: 'release' or 'peildatum'): the dbt var, else the environment
    variable VT_RELEASE or VT_PEILDATUM, else none. `vt` passes them in the environment: dbt parses the whole
    project again whenever a var differs from its last run's, but after a change of an environment variable only
    the files that read it, so one parse serves every release.
    Both are checked exactly here, where every model and macro reads them, before any is used in a name or in
    SQL: a release is JJJJVn (not "2020V2\n"), a peildatum is YYYY-MM-DD (whether it is a real date the guard
    checks). Anything else stops dbt with the var's value shown.
-#}
{% macro release_var(name) -%}
    {%- set value = var(name) or env_var('VT_' ~ name | upper, '') or none -%}
    {%- if value is not none -%}
        {%- set value = value | string -%}
        {%- set pattern = {'release': '[0-9]{4}V[1-9]', 'peildatum': '[0-9]{4}-[0-9]{2}-[0-9]{2}'}[name] -%}
        {%- if not modules.re.fullmatch(pattern, value) -%}
            {%- set shown = '"' ~ value | replace('\\', '\\\\') | replace('"', '\\"') | replace('\n', '\\n')
                | replace('\r', '\\r') ~ '"' -%}
            {{ exceptions.raise_compiler_error(
                name ~ " " ~ shown ~ " is not "
                ~ ("a release name JJJJVn, e.g. 2020V2 (`vt releases` lists the calendar)" if name == 'release'
                   else "a date YYYY-MM-DD") ~ "; nothing was built") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
