{{ config(alias='VT_betrokkene_' ~ release_var('release')) }}

-- One row per person per casus. No BSN pseudonym: released microdata carry coded numbers only; the person
-- identifier is coded again with the separate release key.
with

betrokkenen as (
    select * from {{ ref('int_betrokkenen_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'BT', 'persoonsnummer') }} as identificatienummer_betrokkene,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        {{ person_id('bsn_pseudoniem', 'bsn_status') }} as identificatienummer_persoon,
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
order by identificatienummer_betrokkene, identificatienummer_casus
