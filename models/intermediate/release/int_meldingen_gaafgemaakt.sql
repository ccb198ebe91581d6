{{ config(schema=release_schema()) }}
-- Meldingen of the release, cleaned (G1, G4-G6, G8) and linked to their casus (orphans kept and flagged).
with

meldingen as (
    {{ selected_records('stg_loader__meldingen', ['meldingnummer']) }}
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

gecodeerd as (
    select
        *,
        {{ date_gaaf('datum_melding') }} as datum_melding_gaaf,
        {{ code_gaaf('rol', 'ME') }} as rol_gaaf
    from meldingen
),

gaafgemaakt as (
    select
        gecodeerd.levering_id,
        gecodeerd.regelnummer,
        gecodeerd.vt_code,
        gecodeerd.meldingnummer,
        gecodeerd.casusnummer,
        gecodeerd.verslagperiode,
        gecodeerd.datum_melding_gaaf,
        coalesce(casussen.vtcode_gaaf, gecodeerd.vt_code) as vtcode_gaaf,
        gecodeerd.rol_gaaf,
        case when gecodeerd.rol_gaaf = '10' then {{ code_gaaf('gecodeerd.organisatie', 'ME') }} end
            as organisatie_gaaf,
        {{ code_gaaf('gecodeerd.anoniem', 'ME') }} as anoniem_gaaf,
        {{- flag_fields('ME', 'gecodeerd') }}
        {{ code_gaaf('gecodeerd.duur', 'ME') }} as duur_gaaf,
        -- from layout 0300 on: null for a melding delivered in 0200, onbekend (99) for a bad later value
        case when gecodeerd.aanleiding_in_layout then {{ code_gaaf('gecodeerd.aanleiding', 'ME') }} end
            as aanleiding_gaaf,
        row_number() over (
            partition by gecodeerd.laatste_versie, gecodeerd.vt_code, gecodeerd.casusnummer
            order by gecodeerd.datum_melding_gaaf nulls last, gecodeerd.meldingnummer
        ) = 1 as eerste_melding,
        casussen.casusnummer is null as wees_casus,
        {{ date_g1('datum_melding') }} as g1_datum,
        casussen.casusnummer is null as g4_regio_van_organisatie,
        {{ codes_g5('ME', 'gecodeerd') }} as g5_code,
        gecodeerd.organisatie is not null and coalesce(gecodeerd.rol_gaaf <> '10', true) as g6_organisatie,
        gecodeerd.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        gecodeerd.laatste_versie
    from gecodeerd
    left join casussen on gecodeerd.vt_code = casussen.vt_code and gecodeerd.casusnummer = casussen.casusnummer
)

select * from gaafgemaakt
