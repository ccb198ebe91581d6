with

source as (
    select * from {{ source('loader', 'betrokkene') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type BT, by its type (macros/staged_fields.sql)
        {{ staged_fields('BT') }}
    from source
)

select * from renamed
