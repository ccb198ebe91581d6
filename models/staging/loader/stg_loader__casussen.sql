with

source as (
    select * from {{ source('loader', 'casus') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('casusnummer') }} as casusnummer,
        {{ date_value('startdatum') }} as startdatum,
        {{ text_value('startdatum') }} is not null as startdatum_ingevuld,
        {{ date_value('einddatum') }} as einddatum,
        {{ text_value('einddatum') }} is not null as einddatum_ingevuld,
        {{ text_value('gemeentecode') }} as gemeentecode
    from source
)

select * from renamed
