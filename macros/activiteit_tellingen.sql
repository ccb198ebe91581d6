{#-
    Active, started and closed per half-year and region, for casussen or diensten, each half-year counted
    from its own delivery's version of the records (publicatie.md): active = started on or before the
    last day and not ended before the first day (the CBS erratum of April 2020).
-#}
{% macro activiteit_tellingen(model, naam) -%}
    select
        records.verslagperiode,
        records.vtcode_gaaf as vt_code,
        count(*) filter (
            where records.startdatum_gaaf <= perioden.periode_einde
            and (records.einddatum_gaaf is null or records.einddatum_gaaf >= perioden.periode_start)
        ) as actieve_{{ naam }},
        count(*) filter (
            where records.startdatum_gaaf between perioden.periode_start and perioden.periode_einde
        ) as gestarte_{{ naam }},
        count(*) filter (
            where records.einddatum_gaaf between perioden.periode_start and perioden.periode_einde
        ) as gesloten_{{ naam }}
    from {{ ref(model) }} as records
    inner join perioden on records.verslagperiode = perioden.verslagperiode
    group by records.verslagperiode, records.vtcode_gaaf
{%- endmacro %}
