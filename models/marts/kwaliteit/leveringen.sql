-- Every loaded delivery with the days on which it is the valid delivery of its organisation and half-year (latest
-- delivery wins, int_leveringen_vervangen): what the quality reports, `vt releases` and the freeze read. A view, by
-- design: they compare a release's last build with the deliveries loaded a moment ago, without running dbt, and a
-- table would let a freeze miss a delivery loaded since the last build.
{{ config(materialized='view') }}

with

leveringen as (
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
        geldig_van,
        geldig_tot,
        vervangt,
        laatste
    from {{ ref('int_leveringen_vervangen') }}
)

select * from leveringen
