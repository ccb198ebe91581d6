with

source as (
    select * from {{ source('referentie', 'herindelingen') }}
),

renamed as (
    select
        cast(ingangsdatum as date) as ingangsdatum,
        trim(oude_code) as oude_code,
        trim(oude_naam) as oude_naam,
        trim(nieuwe_code) as nieuwe_code,
        trim(nieuwe_naam) as nieuwe_naam,
        trim(splitsing) as splitsing
    from source
)

select * from renamed
