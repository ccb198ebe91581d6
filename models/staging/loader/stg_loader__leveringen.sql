with

source as (
    select * from {{ source('loader', 'leveringen') }}
),

renamed as (
    select
        levering_id,
        vt_code,
        verslagperiode,
        leveringsnummer,
        bestandsnaam,
        checksum_sha256,
        aanmaakdatum,
        versie_bestandsdefinitie,
        ontvangen_op,
        geladen_op,
        aantal_records,
        cast(left(verslagperiode, 4) as integer) as jaar,
        {{ periode_start('verslagperiode') }} as periode_start,
        {{ periode_einde('verslagperiode') }} as periode_einde,
        {{ periode_vorige('verslagperiode') }} as vorige_verslagperiode
    from source
)

select * from renamed
