{{ config(schema=release_schema()) }}
-- Overdrachten of the release (one row per person), cleaned (G1, G4, G5, G8) and linked to their casus,
-- their bron (the veiligheidsbeoordeling via its melding, or the dienst) and the person.
with

overdrachten as (
    {{ selected_records('stg_loader__overdrachten', ['overdrachtnummer', 'persoonsnummer']) }}
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

bronnen as (
    select * from {{ ref('int_bronnen_verzameld') }}
),

betrokkenen as (
    select * from {{ ref('int_betrokkenen_gaafgemaakt') }}
    where laatste_versie
),

gaafgemaakt as (
    select
        overdrachten.levering_id,
        overdrachten.regelnummer,
        overdrachten.vt_code,
        overdrachten.overdrachtnummer,
        overdrachten.persoonsnummer,
        overdrachten.casusnummer,
        overdrachten.verslagperiode,
        {{ code_gaaf('overdrachten.bron', 'OV') }} as bron_gaaf,
        overdrachten.bronnummer,
        case
            when overdrachten.datum_overdracht <= overdrachten.periode_einde
                then overdrachten.datum_overdracht
        end as datum_overdracht_gaaf,
        coalesce(casussen.vtcode_gaaf, overdrachten.vt_code) as vtcode_gaaf,
        {{ code_gaaf('overdrachten.partij', 'OV') }} as partij_gaaf,
        {{ code_gaaf('overdrachten.hulp', 'OV') }} as hulp_gaaf,
        betrokkenen.bsn_pseudoniem,
        betrokkenen.bsn_status,
        casussen.casusnummer is null as wees_casus,
        bronnen.bronnummer is null as wees_bron,
        betrokkenen.persoonsnummer is null as wees_betrokkene,
        {{ date_g1('datum_overdracht') }} as g1_datum,
        casussen.casusnummer is null as g4_regio_van_organisatie,
        {{ codes_g5('OV', 'overdrachten') }} as g5_code,
        overdrachten.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        overdrachten.laatste_versie
    from overdrachten
    left join casussen
        on overdrachten.vt_code = casussen.vt_code and overdrachten.casusnummer = casussen.casusnummer
    left join bronnen
        on
            overdrachten.vt_code = bronnen.vt_code
            and overdrachten.bron = bronnen.bron
            and overdrachten.bronnummer = bronnen.bronnummer
    left join betrokkenen
        on
            overdrachten.vt_code = betrokkenen.vt_code
            and overdrachten.casusnummer = betrokkenen.casusnummer
            and overdrachten.persoonsnummer = betrokkenen.persoonsnummer
)

select * from gaafgemaakt
