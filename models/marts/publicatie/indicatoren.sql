{{ config(alias='indicatoren_' ~ release_var('release')) }}
{#- the indicators with their numerator and denominator: the seed publicatie_maten's, read at compile time -#}
{%- set indicatoren = publicatie_maten('indicatoren') %}

-- The indicators per half-year, per VT-regio and NL, as numerator and denominator (publicatie.md): each one's
-- counts named by the seed publicatie_maten (teller, noemer), taken from the one table of counts. Percentages,
-- suppression and symbols are made when publishing, from these unrounded counts.
with

maten as (
    {{ maten_tabel(indicatoren) }}
),

tellingen as (
    select * from {{ ref('int_regiotellingen_berekend') }}
),

final as (
    select
        tellers.verslagperiode,
        tellers.vt_code,
        maten.maat as indicator,
        tellers.aantal as teller,
        noemers.aantal as noemer
    from maten
    inner join tellingen as tellers on maten.teller = tellers.telling
    inner join tellingen as noemers
        on
            maten.noemer = noemers.telling
            and tellers.verslagperiode = noemers.verslagperiode
            and tellers.vt_code = noemers.vt_code
)

select * from final
