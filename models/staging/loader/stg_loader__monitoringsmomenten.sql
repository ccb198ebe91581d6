with

source as (
    select * from {{ source('loader', 'monitoring') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type MO, by its type (macros/staged_fields.sql)
        {{ staged_fields('MO') }}
    from source
)

select * from renamed
