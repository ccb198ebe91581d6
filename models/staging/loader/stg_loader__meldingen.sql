with

source as (
    select * from {{ source('loader', 'melding') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type ME, by its type (macros/staged_fields.sql)
        {{ staged_fields('ME') }}
    from source
)

select * from renamed
