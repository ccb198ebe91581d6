{#-
    on-run-end: one row in meta.builds per run that built models of a release: the release, the peildatum and
    the deliveries (ids and checksums) its tables were built from (read back from the release's own
    int_leveringen_geselecteerd, so a partial build records what it reused), the models built and failed,
    whether the whole release was built, the versions of the stack, dbt's invocation id, start and end time, and
    the fingerprints of the keys.
    `vt release` freezes only a release whose last build is complete and of the current state.
-#}
{% macro record_build(results) -%}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'retry') -%}{{ return('') }}{%- endif -%}
    {%- set built, failed = [], [] -%}
    {%- for r in results if r.node.resource_type == 'model' and 'release' in r.node.tags -%}
        {%- do (built if r.status == 'success' else failed).append(r.node.name) -%}
    {%- endfor -%}
    {%- if not built -%}{{ return('') }}{%- endif -%}
    {%- set all_release = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'release' in node.tags -%}
        {%- do all_release.append(node.name) -%}
    {%- endfor -%}
    {%- set problems = results | selectattr('status', 'in', ['error', 'fail', 'skipped']) | list -%}
    {%- set volledig = (all_release | reject('in', built) | list | length == 0) and not problems -%}
    {%- set sel = graph.nodes['model.vt_warehouse.int_leveringen_geselecteerd'] -%}
    {%- set src = graph.sources['source.vt_warehouse.meta.builds'] -%}
    {%- set leveringen = "(select list({'levering_id': levering_id, 'checksum_sha256': checksum_sha256, "
        ~ "'ontvangen_op': ontvangen_op} order by levering_id) from " ~ sel.relation_name ~ ")" -%}
    {%- set peildatum = "(select max(peildatum) from " ~ sel.relation_name ~ ")" -%}
    {%- if not relation_exists(sel.schema, sel.alias) -%}
        {%- set leveringen, peildatum = "null", "null" -%}
    {%- endif -%}
    {%- call statement('record_build') -%}
        create schema if not exists {{ src.schema }};
        create table if not exists {{ src.relation_name }} (
            invocation_id varchar primary key,
            release varchar not null,
            peildatum date,
            leveringen struct(levering_id varchar, checksum_sha256 varchar, ontvangen_op timestamp)[],
            opdracht varchar,
            modellen varchar[],
            mislukt varchar[],
            volledig boolean not null,
            versies json,
            gestart_op timestamp not null,
            beeindigd_op timestamp not null
        );
        -- the fingerprints of the keys that coded the build (vt_warehouse/transform/plugin.py), never the keys
        alter table {{ src.relation_name }} add column if not exists sleutels json;
        insert into {{ src.relation_name }} (
            invocation_id, release, peildatum, leveringen, opdracht, modellen, mislukt, volledig, versies, gestart_op,
            beeindigd_op, sleutels
        ) values (
            {{ sql_text(invocation_id) }},
            {{ sql_text(release_var('release')) }},
            {{ peildatum }},
            {{ leveringen }},
            {{ sql_text(flags.WHICH) }},
            {{ sql_list(built | sort) }}::varchar[],
            {{ sql_list(failed | sort) }}::varchar[],
            {{ volledig }},
            vt_versies(),
            {{ sql_text(run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f')) }}::timestamp,
            {{ sql_text(modules.datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M:%S.%f')) }}::timestamp,
            getvariable('vt_sleutels')::json
        );
    {%- endcall -%}
    {#- hooks run in a transaction that dbt rolls back -#}
    {%- do adapter.commit() -%}
    {{ return('') }}
{%- endmacro %}
