with

source as (
    select * from {{ source('loader', 'overdracht') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type OV, by its type (macros/staged_fields.sql)
        {{ staged_fields('OV') }}
    from source
)

select * from renamed
