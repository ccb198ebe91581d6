{{ config(alias='VT_advies_' ~ release_var('release')) }}

with

adviezen as (
    select * from {{ ref('int_adviezen_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'AD', 'adviesnummer') }} as identificatienummer_advies,
        verslagperiode,
        {{ ymd('startdatum_gaaf') }} as startdatum_gaaf,
        {{ ymd('einddatum_gaaf') }} as einddatum_gaaf,
        gemeente_gaaf,
        vtcode_gaaf,
        {{- flag_fields('AD') }}
        duur_gaaf,
        rol_gaaf,
        organisatie_gaaf
    from adviezen
)

select * from final
order by identificatienummer_advies
