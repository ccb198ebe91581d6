{{ config(alias='VT_veiligheidsbeoordeling_' ~ release_var('release')) }}

-- A veiligheidsbeoordeling has no number of its own: it is identified by its melding (at most one per melding).
with

beoordelingen as (
    select * from {{ ref('int_veiligheidsbeoordelingen_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'ME', 'meldingnummer') }} as identificatienummer_melding,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        verslagperiode,
        {{ ymd('datum_beoordeling_gaaf') }} as datum_beoordeling_gaaf,
        vtcode_gaaf,
        inhoud_gaaf,
        veiligheidstaxatie_gaaf
    from beoordelingen
)

select * from final
order by identificatienummer_melding
