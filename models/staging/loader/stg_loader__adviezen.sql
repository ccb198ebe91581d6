with

source as (
    select * from {{ source('loader', 'advies') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type AD, by its type (macros/staged_fields.sql)
        {{ staged_fields('AD') }}
    from source
)

select * from renamed
