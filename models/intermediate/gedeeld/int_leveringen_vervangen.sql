-- Latest delivery wins, written once: every loaded delivery with the days on which it is the valid delivery of
-- its organisation and half-year (verwerking.md section 1). On day p the valid delivery is the one with the
-- highest leveringsnummer received on or before p, so a delivery is valid from the day it was received until
-- the first day a delivery with a higher number had been received. A release selects, per organisation and
-- half-year, the delivery valid on its peildatum; the quality reports compare with the one valid now. A view,
-- so every reader sees the register as loaded a moment ago.
{{ config(materialized='view') }}

with

leveringen as (
    select * from {{ ref('stg_loader__leveringen') }}
),

vervangen as (
    select
        levering_id,
        vt_code,
        verslagperiode,
        leveringsnummer,
        bestandsnaam,
        checksum_sha256,
        ontvangen_op,
        geladen_op,
        aantal_records,
        jaar,
        periode_start,
        periode_einde,
        vorige_verslagperiode,
        aanmaakdatum,
        versie_bestandsdefinitie,
        cast(ontvangen_op as date) as geldig_van,
        -- the first day on which a delivery with a higher number had been received
        min(cast(ontvangen_op as date)) over (
            partition by vt_code, verslagperiode order by leveringsnummer
            rows between 1 following and unbounded following
        ) as geldig_tot,
        lag(levering_id) over (partition by vt_code, verslagperiode order by leveringsnummer) as vervangt,
        leveringsnummer = max(leveringsnummer) over (partition by vt_code, verslagperiode) as laatste
    from leveringen
)

select * from vervangen
