{{ config(schema=release_schema()) }}
-- The counts of the publication about what comes in, per half-year of the release and VT-regio, one row per count:
-- adviezen started and meldingen received in the half-year (with the veiligheidsbeoordeling of each melding).
-- Which counts each CTE makes is listed once, in macros/publicatie_tellingen.sql.
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

beoordelingen as (
    select * from {{ ref('int_veiligheidsbeoordelingen_gaafgemaakt') }}
    where laatste_versie
),

adviezen as (
    select
        adviezen.verslagperiode,
        adviezen.vtcode_gaaf as vt_code,
        count(*) as gestarte_adviezen,
        count(*) filter (where adviezen.rol_gaaf = '10') as adviezen_beroepsmatig,
        count(*) filter (where adviezen.aard_1) as adviezen_kindermishandeling,
        count(*) filter (where adviezen.aanvullende_informatie_1) as adviezen_conflictscheiding
    from {{ ref('int_adviezen_gaafgemaakt') }} as adviezen
    inner join perioden on adviezen.verslagperiode = perioden.verslagperiode
    where adviezen.startdatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by adviezen.verslagperiode, adviezen.vtcode_gaaf
),

meldingen as (
    select
        meldingen.verslagperiode,
        meldingen.vtcode_gaaf as vt_code,
        count(*) as ontvangen_meldingen,
        count(*) filter (where meldingen.organisatie_gaaf in ('13', '14')) as meldingen_politie_justitie,
        count(*) filter (where meldingen.aard_2) as meldingen_partnergeweld,
        count(*) filter (where meldingen.aanvullende_informatie_2) as meldingen_eergerelateerd,
        count(*) filter (where beoordelingen.inhoud_gaaf = '2') as meldingen_overdracht,
        count(*) filter (where beoordelingen.veiligheidstaxatie_gaaf = '1') as meldingen_acute_onveiligheid
    from {{ ref('int_meldingen_gaafgemaakt') }} as meldingen
    inner join perioden on meldingen.verslagperiode = perioden.verslagperiode
    left join beoordelingen
        on meldingen.vt_code = beoordelingen.vt_code and meldingen.meldingnummer = beoordelingen.meldingnummer
    where meldingen.datum_melding_gaaf between perioden.periode_start and perioden.periode_einde
    group by meldingen.verslagperiode, meldingen.vtcode_gaaf
),

per_regio as (
    {{ alle_tellingen(publicatie_tellingen('int_instroomtellingen_berekend')) }}
)

select * from per_regio
