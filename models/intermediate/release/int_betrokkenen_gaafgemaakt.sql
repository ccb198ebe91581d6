{{ config(schema=release_schema()) }}
-- Directbetrokkenen of the release, cleaned (G4, G5, G7, G8) and linked to their casus.
with

betrokkenen as (
    {{ selected_records('stg_loader__betrokkenen', ['persoonsnummer', 'casusnummer']) }}
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

-- G7: keep the birth date with its precision: dag, maand, jaar, onbekend or ongeboren
geboorte as (
    select
        *,
        case
            when geboortedatum = '99999999' then 'ongeboren'
            when geboortedatum is null or geboortedatum = '00000000' then 'onbekend'
            when not regexp_full_match(geboortedatum, '[0-9]{8}') then 'ongeldig'
            when
                try_cast(left(geboortedatum, 4) as integer) < 1900
                or make_date(try_cast(left(geboortedatum, 4) as integer), 1, 1) > periode_einde then 'ongeldig'
            when substr(geboortedatum, 5, 4) = '0000' then 'jaar'
            when not substr(geboortedatum, 5, 2) between '01' and '12' then 'ongeldig'
            when right(geboortedatum, 2) = '00' then 'maand'
            when
                try_strptime(geboortedatum, '%Y%m%d') is null
                or cast(try_strptime(geboortedatum, '%Y%m%d') as date) > periode_einde then 'ongeldig'
            else 'dag'
        end as precisie
    from betrokkenen
),

gaafgemaakt as (
    select
        geboorte.levering_id,
        geboorte.regelnummer,
        geboorte.vt_code,
        geboorte.persoonsnummer,
        geboorte.casusnummer,
        geboorte.verslagperiode,
        geboorte.bsn_pseudoniem,
        geboorte.bsn_status,
        case when geboorte.precisie = 'ongeldig' then 'onbekend' else geboorte.precisie end
            as geboortedatum_precisie,
        case
            when geboorte.precisie in ('dag', 'maand', 'jaar')
                then try_cast(left(geboorte.geboortedatum, 4) as integer)
        end as geboortejaar_gaaf,
        case
            when geboorte.precisie in ('dag', 'maand')
                then try_cast(substr(geboorte.geboortedatum, 5, 2) as integer)
        end as geboortemaand_gaaf,
        case
            when geboorte.precisie = 'dag'
                then cast(try_strptime(geboorte.geboortedatum, '%Y%m%d') as date)
        end as geboortedatum_gaaf,
        {{ code_gaaf('geboorte.geslacht', 'BT') }} as geslacht_gaaf,
        coalesce(casussen.vtcode_gaaf, geboorte.vt_code) as vtcode_gaaf,
        casussen.casusnummer is null as wees_casus,
        casussen.casusnummer is null as g4_regio_van_organisatie,
        {{ codes_g5('BT', 'geboorte') }} as g5_code,
        geboorte.precisie = 'ongeldig' as g7_geboortedatum,
        geboorte.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        geboorte.laatste_versie
    from geboorte
    left join casussen on geboorte.vt_code = casussen.vt_code and geboorte.casusnummer = casussen.casusnummer
)

select * from gaafgemaakt
