{{ config(alias='VT_melding_' ~ release_var('release')) }}

with

meldingen as (
    select * from {{ ref('int_meldingen_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'ME', 'meldingnummer') }} as identificatienummer_melding,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        verslagperiode,
        {{ ymd('datum_melding_gaaf') }} as datum_melding_gaaf,
        vtcode_gaaf,
        rol_gaaf,
        organisatie_gaaf,
        anoniem_gaaf,
        {{- flag_fields('ME') }}
        duur_gaaf,
        aanleiding_gaaf,
        eerste_melding
    from meldingen
)

select * from final
order by identificatienummer_melding
