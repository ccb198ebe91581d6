{{ config(schema=release_schema()) }}
-- What an overdracht can name as its bron, one row each: the veiligheidsbeoordeling (by its melding) and the
-- diensten voorwaarden en vervolg and onderzoek, in the latest half-year's version of the release.
with

bronnen as (
    select
        vt_code,
        'VB' as bron,
        meldingnummer as bronnummer
    from {{ ref('int_veiligheidsbeoordelingen_gaafgemaakt') }}
    where laatste_versie
    union all
    select
        vt_code,
        'VV' as bron,
        dienstnummer as bronnummer
    from {{ ref('int_voorwaardenvervolg_gaafgemaakt') }}
    where laatste_versie
    union all
    select
        vt_code,
        'ON' as bron,
        dienstnummer as bronnummer
    from {{ ref('int_onderzoeken_gaafgemaakt') }}
    where laatste_versie
)

select * from bronnen
