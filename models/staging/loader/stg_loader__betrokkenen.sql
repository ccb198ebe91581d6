with

source as (
    select * from {{ source('loader', 'betrokkene') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('persoonsnummer') }} as persoonsnummer,
        {{ text_value('casusnummer') }} as casusnummer,
        bsn_pseudoniem,
        bsn_status,
        {{ text_value('geboortedatum') }} as geboortedatum,
        {{ text_value('geslacht') }} as geslacht
    from source
)

select * from renamed
