{#-
    The records of one staging model that count for the release: only those of the selected deliveries
    (latest delivery wins, received by the peildatum). A record in the deliveries of several half-years
    keeps one row per half-year (the publication counts each half-year as delivered for it);
    `laatste_versie` marks the latest half-year's version, the one the microdata and the links use.
    A record without a key is never taken for another.
-#}
{% macro selected_records(staging_model, key_columns) -%}
    {%- set key -%}
        {% for c in key_columns %}coalesce(r.{{ c }}, '#' || r.levering_id || ':' || r.regelnummer){{ ", " if not loop.last }}{% endfor %}
    {%- endset -%}
    select
        r.*,
        l.verslagperiode,
        l.jaar,
        l.periode_start,
        l.periode_einde,
        count(*) over (partition by r.vt_code, {{ key }}) > 1 as in_meerdere_halfjaren,
        row_number() over (partition by r.vt_code, {{ key }} order by l.verslagperiode desc) = 1 as laatste_versie
    from {{ ref(staging_model) }} as r
    inner join {{ ref('int_leveringen_geselecteerd') }} as l on r.levering_id = l.levering_id
{%- endmacro %}
