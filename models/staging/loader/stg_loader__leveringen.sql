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
        ontvangen_op,
        geladen_op,
        aantal_records,
        cast(left(verslagperiode, 4) as integer) as jaar,
        make_date(
            cast(left(verslagperiode, 4) as integer), case when right(verslagperiode, 1) = '1' then 1 else 7 end, 1
        ) as periode_start,
        make_date(
            cast(left(verslagperiode, 4) as integer),
            case when right(verslagperiode, 1) = '1' then 6 else 12 end,
            case when right(verslagperiode, 1) = '1' then 30 else 31 end
        ) as periode_einde
    from source
)

select * from renamed
