with

source as (
    select * from {{ source('loader', 'casus') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type CA, by its type (macros/staged_fields.sql)
        {{ staged_fields('CA') }}
    from source
)

select * from renamed
