{{ config(schema=release_schema()) }}
-- Overdracht records (one per person) attributed to the half-year in which their casus closed, as that
-- half-year's delivery has it: what the kerncijfer `overdrachten` and its indicator count.
with

overdrachten as (
    select * from {{ ref('int_overdrachten_gaafgemaakt') }}
    where laatste_versie
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
),

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

toegerekend as (
    select
        overdrachten.vt_code,
        overdrachten.overdrachtnummer,
        overdrachten.persoonsnummer,
        casussen.verslagperiode,
        overdrachten.vtcode_gaaf,
        overdrachten.partij_gaaf
    from overdrachten
    inner join casussen
        on overdrachten.vt_code = casussen.vt_code and overdrachten.casusnummer = casussen.casusnummer
    inner join perioden on casussen.verslagperiode = perioden.verslagperiode
    where casussen.einddatum_gaaf between perioden.periode_start and perioden.periode_einde
)

select * from toegerekend
