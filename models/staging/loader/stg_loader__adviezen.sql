with

source as (
    select * from {{ source('loader', 'advies') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('adviesnummer') }} as adviesnummer,
        {{ date_value('startdatum') }} as startdatum,
        {{ text_value('startdatum') }} is not null as startdatum_ingevuld,
        {{ date_value('einddatum') }} as einddatum,
        {{ text_value('einddatum') }} is not null as einddatum_ingevuld,
        {{ text_value('gemeentecode') }} as gemeentecode,
        {{ flag_columns('aard', 'aard', 7) }}
        {{ text_value('aard') }} is not null as aard_ingevuld,
        {{ flag_columns('aanvullende_informatie', 'aanvullende_informatie', 8) }}
        {{ text_value('aanvullende_informatie') }} is not null as aanvullende_informatie_ingevuld,
        {{ text_value('duur') }} as duur,
        {{ text_value('rol') }} as rol,
        {{ text_value('organisatie') }} as organisatie
    from source
)

select * from renamed
