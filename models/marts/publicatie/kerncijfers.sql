{{ config(alias='kerncijfers_' ~ release_var('release')) }}
{#- its columns: the seed publicatie_maten's kerncijfers (the contract repeats them; a test compares the two) -#}
{%- set kerncijfers = publicatie_maten('kerncijfers') | map(attribute='maat') | list %}

-- The kerncijfers (the seed publicatie_maten's) per VT-regio of the half-year's year, plus NL, unrounded
-- (publicatie.md). Rounding, suppression and symbols are applied when publishing (vt publish). A region whose
-- organisation has no delivery for the half-year has NULL counts (gegevens ontbreken), and so has NL then
-- (int_regios_afgebakend).
with

regios as (
    select * from {{ ref('int_regios_afgebakend') }}
),

tellingen as (
    select * from {{ ref('int_regiotellingen_berekend') }}
),

final as (
    select
        regios.verslagperiode,
        regios.vt_code,
        regios.vt_naam,
        regios.volledig,
        {{ telling_kolommen(kerncijfers, 'tellingen', 'regios.volledig') }}
    from regios
    left join tellingen on regios.verslagperiode = tellingen.verslagperiode and regios.vt_code = tellingen.vt_code
    group by regios.verslagperiode, regios.vt_code, regios.vt_naam, regios.volledig
)

select * from final
