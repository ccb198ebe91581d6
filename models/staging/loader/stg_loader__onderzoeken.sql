with

source as (
    select * from {{ source('loader', 'onderzoek') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type ON, by its type (macros/staged_fields.sql)
        {{ staged_fields('ON') }}
    from source
)

select * from renamed
