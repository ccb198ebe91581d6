{#-
    Part of guard_release: at least one delivery of the release's half-years was received on or before the
    peildatum. Otherwise the message says how many there are and when they arrived (files loaded without
    --received-at are dated at the load, after any historic peildatum).
-#}
{% macro guard_deliveries(release, perioden, peildatum) -%}
    {%- set src = graph.sources['source.vt_warehouse.loader.leveringen'] -%}
    {%- set rows = [] -%}
    {%- if relation_exists(src.schema, src.name) -%}
        {%- set rows = run_query(
            "select verslagperiode, count(*), count(*) filter (where cast(ontvangen_op as date) <= "
            ~ sql_text(peildatum) ~ "::date), strftime(min(ontvangen_op), '%Y-%m-%d %H:%M'), "
            ~ "strftime(max(ontvangen_op), '%Y-%m-%d %H:%M') from " ~ src.relation_name
            ~ " where list_contains(" ~ sql_list(perioden) ~ ", verslagperiode)"
            ~ " group by verslagperiode order by verslagperiode").rows -%}
    {%- endif -%}
    {%- set on_time = rows | sum(attribute=2) -%}
    {%- if on_time == 0 -%}
        {%- set found = [] -%}
        {%- for r in rows -%}
            {%- do found.append(r[1] ~ " for " ~ r[0] ~ ", received " ~ r[3] ~ (" to " ~ r[4] if r[4] != r[3] else "")) -%}
        {%- endfor -%}
        {%- if found -%}
            {%- set what = "the warehouse has " ~ found | join("; ") ~ ", all after the peildatum. "
                ~ "Historic files need their real reception time: `vt load --received-at mtime DIR` "
                ~ "(each file's modification time) or `--received-at YYYY-MM-DD`, or `vt refresh --inbox DIR`, "
                ~ "which takes each file at its modification time; or build as of another day with "
                ~ "--vars '{release: " ~ release ~ ", peildatum: YYYY-MM-DD}'" -%}
        {%- else -%}
            {%- set what = "the warehouse has no delivery for " ~ perioden | join(" or ")
                ~ ": load them first (`vt load DIR`, or `vt refresh --inbox DIR`)" -%}
        {%- endif -%}
        {{ return("release " ~ release ~ " has no deliveries received on or before its "
            ~ "peildatum " ~ peildatum ~ ": " ~ what ~ ". Nothing was built.") }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
