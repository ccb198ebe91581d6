with

source as (
    select * from {{ source('referentie', 'gemeente_vt') }}
),

renamed as (
    select
        cast(jaar as integer) as jaar,
        trim(gemeentecode) as gemeentecode,
        trim(gemeentenaam) as gemeentenaam,
        trim(vt_code) as vt_code
    from source
)

select * from renamed
