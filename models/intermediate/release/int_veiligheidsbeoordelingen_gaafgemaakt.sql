{{ config(schema=release_schema()) }}
-- Veiligheidsbeoordelingen of the release, cleaned (G1, G4, G5, G8), linked to their melding and casus.
with

beoordelingen as (
    {{ selected_records('stg_loader__veiligheidsbeoordelingen', ['meldingnummer']) }}
),

meldingen as (
    select * from {{ ref('int_meldingen_gaafgemaakt') }}
    where laatste_versie
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

gaafgemaakt as (
    select
        beoordelingen.levering_id,
        beoordelingen.regelnummer,
        beoordelingen.vt_code,
        beoordelingen.meldingnummer,
        beoordelingen.casusnummer,
        beoordelingen.verslagperiode,
        case
            when beoordelingen.datum_beoordeling <= beoordelingen.periode_einde
                then beoordelingen.datum_beoordeling
        end as datum_beoordeling_gaaf,
        coalesce(casussen.vtcode_gaaf, beoordelingen.vt_code) as vtcode_gaaf,
        {{ code_gaaf('beoordelingen.inhoud', 'VB') }} as inhoud_gaaf,
        {{ code_gaaf('beoordelingen.veiligheidstaxatie', 'VB') }} as veiligheidstaxatie_gaaf,
        meldingen.meldingnummer is null as wees_melding,
        casussen.casusnummer is null as wees_casus,
        {{ date_g1('datum_beoordeling') }} as g1_datum,
        casussen.casusnummer is null as g4_regio_van_organisatie,
        {{ codes_g5('VB', 'beoordelingen') }} as g5_code,
        beoordelingen.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        beoordelingen.laatste_versie
    from beoordelingen
    left join meldingen
        on beoordelingen.vt_code = meldingen.vt_code and beoordelingen.meldingnummer = meldingen.meldingnummer
    left join casussen
        on beoordelingen.vt_code = casussen.vt_code and beoordelingen.casusnummer = casussen.casusnummer
)

select * from gaafgemaakt
