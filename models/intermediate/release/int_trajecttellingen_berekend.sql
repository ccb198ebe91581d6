{{ config(schema=release_schema()) }}
-- The counts of the publication about the work done, per half-year of the release and VT-regio, one row per count:
-- casussen, onderzoeken and voorwaarden en vervolg active, started and closed, onderzoeken concluded, and the
-- overdrachten of the casussen closed in the half-year. Which counts each CTE makes is listed once, in
-- macros/publicatie_tellingen.sql.
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

-- Overdracht records (one per person) attributed to the half-year in which their casus closed, as that
-- half-year's delivery has it: what the kerncijfer `overdrachten` and its indicator count.
overdracht_records as (
    select * from {{ ref('int_overdrachten_gaafgemaakt') }}
    where laatste_versie
),

casus_records as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
),

toegerekend as (
    select
        overdracht_records.vt_code,
        overdracht_records.overdrachtnummer,
        overdracht_records.persoonsnummer,
        casus_records.verslagperiode,
        overdracht_records.vtcode_gaaf,
        overdracht_records.partij_gaaf
    from overdracht_records
    inner join casus_records
        on
            overdracht_records.vt_code = casus_records.vt_code
            and overdracht_records.casusnummer = casus_records.casusnummer
    inner join perioden on casus_records.verslagperiode = perioden.verslagperiode
    where casus_records.einddatum_gaaf between perioden.periode_start and perioden.periode_einde
),

casussen as (
    {{ activiteit_tellingen('int_casussen_gaafgemaakt', 'casussen') }}
),

onderzoeken as (
    {{ activiteit_tellingen('int_onderzoeken_gaafgemaakt', 'onderzoeken') }}
),

afgeronde_onderzoeken as (
    select
        onderzoeken.verslagperiode,
        onderzoeken.vtcode_gaaf as vt_code,
        count(*) filter (where onderzoeken.uitkomst_6) as onderzoeken_km_bevestigd,
        count(*) filter (where onderzoeken.uitkomst_4 or onderzoeken.uitkomst_5 or onderzoeken.uitkomst_6)
            as onderzoeken_km_beoordeeld
    from {{ ref('int_onderzoeken_gaafgemaakt') }} as onderzoeken
    inner join perioden on onderzoeken.verslagperiode = perioden.verslagperiode
    where onderzoeken.einddatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by onderzoeken.verslagperiode, onderzoeken.vtcode_gaaf
),

vv as (
    {{ activiteit_tellingen('int_voorwaardenvervolg_gaafgemaakt', 'vv') }}
),

overdrachten as (
    select
        verslagperiode,
        vtcode_gaaf as vt_code,
        count(*) as overdrachten,
        count(*) filter (where partij_gaaf in ('05', '06', '09')) as overdrachten_jeugd
    from toegerekend
    group by verslagperiode, vtcode_gaaf
),

per_regio as (
    {{ alle_tellingen(publicatie_tellingen('int_trajecttellingen_berekend')) }}
)

select * from per_regio
