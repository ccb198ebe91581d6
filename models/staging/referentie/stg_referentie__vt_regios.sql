with

source as (
    select * from {{ source('referentie', 'vt_regio') }}
),

renamed as (
    select
        cast(jaar as integer) as jaar,
        trim(vt_code) as vt_code,
        trim(vt_naam) as vt_naam
    from source
)

select * from renamed
