with

source as (
    select * from {{ source('loader', 'veiligheidsbeoordeling') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        -- every field of the layout's record type VB, by its type (macros/staged_fields.sql)
        {{ staged_fields('VB') }}
    from source
)

select * from renamed
