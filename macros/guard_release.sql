{#-
    on-run-start: stops a run that would build a release's models (tag `release`) before any model is built,
    with a message that says what to do, when
      - no release was given, or the calendar does not have it;
      - the peildatum var is not a date;
      - the pseudonymisation key is missing or unusable (the plugin vt_warehouse.transform.plugin says which);
      - a year of the release has no gemeente list or no VT-regio list;
      - no delivery of the release's half-years was received on or before the peildatum;
      - a partial selection (--select vt_casus) would reuse release tables that were never built, or that were
        built from other deliveries or another peildatum than the selection now gives.
    Runs that build no release model (seeds, the quality reports' staging) are not guarded.
-#}
{% macro guard_release() -%}
    {#- dbt compile and docs generate render the hooks too: only a run that builds is guarded -#}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'retry') -%}{{ return('') }}{%- endif -%}
    {%- set selected = [] -%}
    {%- for uid in selected_resources -%}
        {%- set node = graph.nodes.get(uid) -%}
        {%- if node and node.resource_type == 'model' and 'release' in node.tags -%}
            {%- do selected.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set fout = guard_problem(selected) if selected else '' -%}
    {%- if fout -%}
        {%- do drop_empty_schema(selected) -%}
        {{ exceptions.raise_compiler_error(fout) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
