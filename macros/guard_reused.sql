{#-
    Part of guard_release: a partial selection (dbt build --select vt_casus) reuses the release's tables that
    it does not build. Those must exist in the release's own schema, and the release's delivery selection
    there must be the one the warehouse gives now (same deliveries, same checksums, same peildatum); else the
    run stops and says to build them too (--select +vt_casus).
-#}
{% macro guard_reused(release, selected, perioden, peildatum) -%}
    {%- set selected_ids = selected_resources | list -%}
    {%- set reused, readers = [], [] -%}
    {%- for uid in selected_ids -%}
        {%- set node = graph.nodes.get(uid) -%}
        {%- for parent in (node.depends_on.nodes if node and node.resource_type == 'model' else []) -%}
            {%- set p = graph.nodes.get(parent) -%}
            {%- if p and p.resource_type in ('model', 'seed') and parent not in selected_ids -%}
                {%- if p not in reused -%}{%- do reused.append(p) -%}{%- endif -%}
                {%- if node.name not in readers -%}{%- do readers.append(node.name) -%}{%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if not reused -%}{{ return('') }}{%- endif -%}
    {%- set missing_seeds, missing = [], [] -%}
    {%- for p in reused if not relation_exists(p.schema, p.alias) -%}
        {%- do (missing_seeds if p.resource_type == 'seed' else missing).append(p.name) -%}
    {%- endfor -%}
    {%- if missing_seeds -%}
        {{ return("the seeds " ~ missing_seeds | sort | join(", ") ~ " were never loaded into this warehouse: "
            ~ "`dbt build --vars '{release: " ~ release ~ "}'` loads them with the models (or run `dbt seed` "
            ~ "first). Nothing was built.") }}
    {%- endif -%}
    {%- set wanted = readers | sort | join(', ') -%}
    {%- set plus = '+' ~ readers | sort | join(' +') -%}
    {%- if missing -%}
        {{ return("release " ~ release ~ ": " ~ missing | sort | join(", ")
            ~ " of this release were never built, and " ~ wanted ~ " would read them; build them too: "
            ~ "dbt build --select " ~ plus ~ " --vars '{release: " ~ release ~ "}'. Nothing was built.") }}
    {%- endif -%}
    {%- set sel = graph.nodes['model.vt_warehouse.int_leveringen_geselecteerd'] -%}
    {%- set reused_release = [] -%}
    {%- for p in reused if 'release' in p.tags -%}{%- do reused_release.append(p.name) -%}{%- endfor -%}
    {%- if sel.unique_id in selected_ids or not reused_release -%}{{ return('') }}{%- endif -%}
    {%- set vervangen = graph.nodes['model.vt_warehouse.int_leveringen_vervangen'] -%}
    {%- set verschil = run_query(
        "with gebouwd as (select levering_id, checksum_sha256 from " ~ sel.relation_name ~ "), "
        ~ "nu as (select leveringen.levering_id, leveringen.checksum_sha256 from "
        ~ vervangen.relation_name ~ " as leveringen "
        ~ "where list_contains(" ~ sql_list(perioden) ~ ", leveringen.verslagperiode) "
        ~ "and " ~ geldig_op('leveringen', sql_text(peildatum) ~ '::date') ~ ") "
        ~ "select (select count(*) from (select * from gebouwd except select * from nu)), "
        ~ "(select count(*) from (select * from nu except select * from gebouwd)), "
        ~ "(select cast(max(peildatum) as varchar) from " ~ sel.relation_name ~ ")").rows[0] -%}
    {%- set vars = "{release: " ~ release ~ (", peildatum: " ~ release_var('peildatum') if release_var('peildatum')
        else "") ~ "}" -%}
    {#- tables coded with another key would not join to the ones built now -#}
    {%- set builds = graph.sources['source.vt_warehouse.meta.builds'] -%}
    {%- set andere_sleutel = run_query(
        "select coalesce((select sleutels::varchar <> getvariable('vt_sleutels') from " ~ builds.relation_name
        ~ " where release = " ~ sql_text(release) ~ " and sleutels is not null order by beeindigd_op desc limit 1), "
        ~ "false)").rows[0][0] if relation_exists(builds.schema, builds.identifier) else false -%}
    {%- if andere_sleutel -%}
        {{ return("release " ~ release ~ ": the release's tables that " ~ wanted ~ " would reuse were coded with "
            ~ "other keys (meta.builds records their fingerprints); build them too: dbt build --select " ~ plus
            ~ " --vars '{release: " ~ release ~ "}'. Nothing was built.") }}
    {%- endif -%}
    {%- if verschil[0] > 0 or verschil[1] > 0 or verschil[2] != peildatum -%}
        {%- set how = ("the selection of deliveries differs (" ~ verschil[1] ~ " new or changed, " ~ verschil[0]
            ~ " no longer selected)") if verschil[0] > 0 or verschil[1] > 0 else "the same deliveries" -%}
        {{ return("release " ~ release ~ ": the release's tables that " ~ wanted
            ~ " would reuse were built as of peildatum " ~ verschil[2] ~ "; this run is as of " ~ peildatum
            ~ " (" ~ how ~ "); build them too: dbt build --select " ~ plus ~ " --vars '" ~ vars
            ~ "'. Nothing was built.") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
