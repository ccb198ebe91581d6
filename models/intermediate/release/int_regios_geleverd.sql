{{ config(schema=release_schema()) }}
-- Completeness (publicatie.md): per half-year of the release, every VT-regio of the half-year's year with the
-- delivery of its organisation that the release selected (valid on the peildatum), or none. A region without
-- one has no data for that half-year: its figures are missing, never zero.
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

vt_regios as (
    select * from {{ ref('stg_referentie__vt_regios') }}
),

leveringen as (
    select * from {{ ref('int_leveringen_geselecteerd') }}
),

final as (
    select
        perioden.verslagperiode,
        vt_regios.vt_code,
        vt_regios.vt_naam,
        leveringen.levering_id,
        leveringen.levering_id is not null as geleverd
    from perioden
    inner join vt_regios on perioden.jaar = vt_regios.jaar
    left join leveringen
        on perioden.verslagperiode = leveringen.verslagperiode and vt_regios.vt_code = leveringen.vt_code
)

select * from final
