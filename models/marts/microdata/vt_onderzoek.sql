{{ config(alias='VT_onderzoek_' ~ release_var('release')) }}

with

diensten as (
    select * from {{ ref('int_onderzoeken_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'ON', 'dienstnummer') }} as identificatienummer_dienst,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        verslagperiode,
        {{ ymd('startdatum_gaaf') }} as startdatum_gaaf,
        {{ ymd('einddatum_gaaf') }} as einddatum_gaaf,
        vtcode_gaaf,
        {{- flag_fields('ON') }}
        duur_gaaf
    from diensten
)

select * from final
order by identificatienummer_dienst
