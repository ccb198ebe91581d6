with

source as (
    select * from {{ source('loader', 'voorwaardenvervolg') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type VV, by its type (macros/staged_fields.sql)
        {{ staged_fields('VV') }}
    from source
)

select * from renamed
