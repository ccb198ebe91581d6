{{ config(alias='VT_casus_' ~ release_var('release')) }}

-- Exactly the five CBS variables of VT_casus, in CBS's order and formats.
with

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        {{ ymd('startdatum_gaaf') }} as startdatum_gaaf,
        {{ ymd('einddatum_gaaf') }} as einddatum_gaaf,
        gemeente_gaaf,
        vtcode_gaaf
    from casussen
)

select * from final
order by identificatienummer_casus
