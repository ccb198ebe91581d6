{{ config(schema=release_schema()) }}
-- Casussen of the release, cleaned (G1-G4, G8), with a flag per rule.
with

casussen as (
    {{ selected_records('stg_loader__casussen', ['casusnummer']) }}
),

gemeenten as (
    select * from {{ ref('int_gemeentecodes_vertaald') }}
),

gedateerd as (
    select
        *,
        {{ date_gaaf('startdatum') }} as startdatum_g1,
        {{ date_gaaf('einddatum') }} as einddatum_g1
    from casussen
),

gaafgemaakt as (
    select
        gedateerd.levering_id,
        gedateerd.regelnummer,
        gedateerd.vt_code,
        gedateerd.casusnummer,
        gedateerd.verslagperiode,
        gedateerd.startdatum_g1 as startdatum_gaaf,
        case when gedateerd.einddatum_g1 >= gedateerd.startdatum_g1 then gedateerd.einddatum_g1 end
            as einddatum_gaaf,
        coalesce(gemeenten.gemeente_gaaf, '9999') as gemeente_gaaf,
        coalesce(gemeenten.vtcode_gemeente, gedateerd.vt_code) as vtcode_gaaf,
        {{ date_g1('startdatum') }} or {{ date_g1('einddatum') }} as g1_datum,
        coalesce(gedateerd.einddatum_g1 < gedateerd.startdatum_g1, false) as g2_volgorde,
        coalesce(gedateerd.gemeentecode <> coalesce(gemeenten.gemeente_gaaf, '9999'), true) as g3_gemeente,
        gemeenten.vtcode_gemeente is null as g4_regio_van_organisatie,
        gedateerd.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        gedateerd.laatste_versie
    from gedateerd
    left join gemeenten
        on gedateerd.verslagperiode = gemeenten.verslagperiode and gedateerd.gemeentecode = gemeenten.gemeentecode
)

select * from gaafgemaakt
