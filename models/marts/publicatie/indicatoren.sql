{{ config(alias='indicatoren_' ~ release_var('release')) }}
{#- the indicators with their numerator and denominator: the seed publicatie_maten's, read at compile time -#}
{%- set indicatoren = publicatie_maten('indicatoren') %}

-- The indicators per half-year, per VT-regio and NL, as numerator and denominator (publicatie.md): each one's
-- counts named by the seed publicatie_maten (teller, noemer), taken from the one table of counts. Percentages,
-- suppression and symbols are made when publishing, from these unrounded counts. Every region and NL has every
-- indicator: 0 of 0 where nothing was counted, NULL of NULL where the half-year's data is not complete (the
-- region's organisation did not deliver, or for NL any region's), as in kerncijfers.
with

maten as (
    {{ maten_tabel(indicatoren) }}
),

regios as (
    select
        verslagperiode,
        vt_code,
        volledig
    from {{ ref('int_regios_afgebakend') }}
),

tellingen as (
    select * from {{ ref('int_regiotellingen_berekend') }}
),

final as (
    select
        regios.verslagperiode,
        regios.vt_code,
        maten.maat as indicator,
        case when regios.volledig then coalesce(tellers.aantal, 0) end as teller,
        case when regios.volledig then coalesce(noemers.aantal, 0) end as noemer
    from regios
    cross join maten
    left join tellingen as tellers
        on
            maten.teller = tellers.telling
            and regios.verslagperiode = tellers.verslagperiode
            and regios.vt_code = tellers.vt_code
    left join tellingen as noemers
        on
            maten.noemer = noemers.telling
            and regios.verslagperiode = noemers.verslagperiode
            and regios.vt_code = noemers.vt_code
)

select * from final
