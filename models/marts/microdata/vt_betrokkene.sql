{{ config(alias='VT_betrokkene_' ~ var('release')) }}

-- One row per person per casus. No BSN pseudonym: released microdata carry coded record numbers only.
with

betrokkenen as (
    select * from {{ ref('int_betrokkenen_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'BT', 'persoonsnummer') }} as identificatienummer_persoon,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        verslagperiode,
        vtcode_gaaf,
        bsn_status,
        geboortedatum_precisie,
        geboortejaar_gaaf,
        geboortemaand_gaaf,
        geslacht_gaaf
    from betrokkenen
)

select * from final
order by identificatienummer_persoon, identificatienummer_casus
