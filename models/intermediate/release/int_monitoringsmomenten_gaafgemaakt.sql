{{ config(schema=release_schema()) }}
-- Monitoringsmomenten of the release, cleaned (G1, G4, G5, G8) and linked to their casus.
with

momenten as (
    {{ selected_records('stg_loader__monitoringsmomenten', ['monitoringnummer']) }}
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

gaafgemaakt as (
    select
        momenten.levering_id,
        momenten.regelnummer,
        momenten.vt_code,
        momenten.monitoringnummer,
        momenten.casusnummer,
        momenten.verslagperiode,
        case
            when momenten.datum_monitoring <= momenten.periode_einde
                then momenten.datum_monitoring
        end as datum_monitoring_gaaf,
        coalesce(casussen.vtcode_gaaf, momenten.vt_code) as vtcode_gaaf,
        case
            when
                regexp_full_match(momenten.veiligheidsscore, '[0-9]{1,2}')
                and try_cast(momenten.veiligheidsscore as integer) <= 10
                then try_cast(momenten.veiligheidsscore as integer)
        end as veiligheidsscore_gaaf,
        casussen.casusnummer is null as wees_casus,
        {{ date_g1('datum_monitoring') }} as g1_datum,
        casussen.casusnummer is null as g4_regio_van_organisatie,
        momenten.veiligheidsscore is not null and (
            not regexp_full_match(momenten.veiligheidsscore, '[0-9]{1,2}')
            or try_cast(momenten.veiligheidsscore as integer) > 10
        ) as g5_code,
        momenten.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        momenten.laatste_versie
    from momenten
    left join casussen on momenten.vt_code = casussen.vt_code and momenten.casusnummer = casussen.casusnummer
)

select * from gaafgemaakt
