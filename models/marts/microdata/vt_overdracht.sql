{{ config(alias='VT_overdracht_' ~ release_var('release')) }}

-- One row per overgedragen persoon. The bron is coded like the record it points to: a
-- veiligheidsbeoordeling by its melding, a dienst by its own number.
with

overdrachten as (
    select * from {{ ref('int_overdrachten_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'OV', 'overdrachtnummer') }} as identificatienummer_overdracht,
        {{ coded_id('vt_code', 'BT', 'persoonsnummer') }} as identificatienummer_betrokkene,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        {{ person_id('bsn_pseudoniem', 'bsn_status') }} as identificatienummer_persoon,
        verslagperiode,
        bron_gaaf,
        case bron_gaaf
            when 'VB' then {{ coded_id('vt_code', 'ME', 'bronnummer') }}
            when 'VV' then {{ coded_id('vt_code', 'VV', 'bronnummer') }}
            when 'ON' then {{ coded_id('vt_code', 'ON', 'bronnummer') }}
        end as identificatienummer_bron,
        {{ ymd('datum_overdracht_gaaf') }} as datum_overdracht_gaaf,
        vtcode_gaaf,
        partij_gaaf,
        hulp_gaaf
    from overdrachten
)

select * from final
order by identificatienummer_overdracht, identificatienummer_betrokkene
