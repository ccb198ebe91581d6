{{ config(alias='VT_monitoring_' ~ release_var('release')) }}

with

momenten as (
    select * from {{ ref('int_monitoringsmomenten_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'MO', 'monitoringnummer') }} as identificatienummer_monitoring,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        verslagperiode,
        {{ ymd('datum_monitoring_gaaf') }} as datum_monitoring_gaaf,
        vtcode_gaaf,
        veiligheidsscore_gaaf
    from momenten
)

select * from final
order by identificatienummer_monitoring
