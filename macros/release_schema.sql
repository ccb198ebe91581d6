{#-
    The schema of a release's intermediate models (main_release_2020v2): a build of one release never reads
    tables another release built. Set in each model's config, not in dbt_project.yml, where an environment
    variable (macros/release_var.sql) would make dbt parse the whole project again at every change.
-#}
{% macro release_schema() -%}
    {{ return('release_' ~ (release_var('release') or 'geen') | lower) }}
{%- endmacro %}
