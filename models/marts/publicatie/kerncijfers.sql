{{ config(alias='kerncijfers_' ~ release_var('release')) }}
{#- its columns: the seed publicatie_maten's kerncijfers (the contract repeats them; a test compares the two) -#}
{%- set kerncijfers = publicatie_maten('kerncijfers') | map(attribute='maat') | list %}

-- The twelve kerncijfers per VT-regio of the half-year's year, plus NL, unrounded (publicatie.md).
-- Rounding, suppression and symbols are applied when publishing (vt publish).
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

regios as (
    select
        perioden.verslagperiode,
        vt_regio.vt_code,
        vt_regio.vt_naam
    from perioden
    inner join {{ ref('stg_referentie__vt_regios') }} as vt_regio on perioden.jaar = vt_regio.jaar
    union all
    select
        verslagperiode,
        'NL' as vt_code,
        'Totaal' as vt_naam
    from perioden
),

tellingen as (
    select * from {{ ref('int_regiotellingen_berekend') }}
),

final as (
    select
        regios.verslagperiode,
        regios.vt_code,
        regios.vt_naam,
        {{ telling_kolommen(kerncijfers, 'tellingen') }}
    from regios
    left join tellingen on regios.verslagperiode = tellingen.verslagperiode and regios.vt_code = tellingen.vt_code
    group by regios.verslagperiode, regios.vt_code, regios.vt_naam
)

select * from final
