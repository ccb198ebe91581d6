{#-
    The release or peildatum of this run (name: 'release' or 'peildatum'): the dbt var, else the environment
    variable VT_RELEASE or VT_PEILDATUM, else none. `vt` passes them in the environment: dbt parses the whole
    project again whenever a var differs from its last run's, but after a change of an environment variable only
    the files that read it, so one parse serves every release.
-#}
{% macro release_var(name) -%}
    {{ return(var(name) or env_var('VT_' ~ name | upper, '') or none) }}
{%- endmacro %}
