{#- Part of guard_release: why the release of this run cannot be built, or '' (each check in turn). -#}
{% macro guard_problem(selected) -%}
    {%- set release = release_var('release') -%}
    {%- if not release -%}
        {{ return("no release given: name the release to build, e.g. dbt build --vars '{release: 2020V2}' "
            ~ "(`vt releases` lists the calendar)") }}
    {%- endif -%}
    {%- set kalender = fromjson(run_query(
        "select vt_release_kalender(" ~ sql_text(release) ~ ")").columns[0].values()[0]) -%}
    {%- if kalender.fout -%}
        {{ return(kalender.fout ~ "; nothing was built") }}
    {%- endif -%}
    {#- a frozen release's tables are its files: plain dbt refuses it as vt build does -#}
    {%- set bevroren = run_query("select vt_bevroren(" ~ sql_text(release) ~ ")").columns[0].values()[0] -%}
    {%- if bevroren -%}
        {{ return(bevroren ~ "; nothing was built") }}
    {%- endif -%}

    {%- set peildatum = kalender.peildatum -%}
    {%- if release_var('peildatum') -%}
        {%- set peildatum = run_query(
            "select cast(try_cast(" ~ sql_text(release_var('peildatum')) ~ " as date) as varchar)").columns[0].values()[0] -%}
        {%- if not peildatum -%}
            {{ return("release " ~ release ~ ": peildatum " ~ release_var('peildatum') ~ " is not a date YYYY-MM-DD") }}
        {%- endif -%}
    {%- endif -%}

    {%- set sleutel_fout = run_query("select getvariable('vt_sleutel_fout')").columns[0].values()[0] -%}
    {%- if sleutel_fout -%}
        {{ return("release " ~ release ~ " cannot be built: " ~ sleutel_fout) }}
    {%- endif -%}

    {#- in this order: the first that fails is the answer -#}
    {{ return(guard_reference(release, kalender.jaren)
        or guard_deliveries(release, kalender.perioden, peildatum)
        or guard_reused(release, selected, kalender.perioden, peildatum)) }}
{%- endmacro %}
