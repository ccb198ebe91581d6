with

source as (
    select * from {{ source('loader', 'onderzoek') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('dienstnummer') }} as dienstnummer,
        {{ text_value('casusnummer') }} as casusnummer,
        {{ date_value('startdatum') }} as startdatum,
        {{ text_value('startdatum') }} is not null as startdatum_ingevuld,
        {{ date_value('einddatum') }} as einddatum,
        {{ text_value('einddatum') }} is not null as einddatum_ingevuld,
        {{ flag_columns('aard', 'aard', 7) }}
        {{ text_value('aard') }} is not null as aard_ingevuld,
        {{ flag_columns('aanvullende_informatie', 'aanvullende_informatie', 8) }}
        {{ text_value('aanvullende_informatie') }} is not null as aanvullende_informatie_ingevuld,
        {{ flag_columns('uitkomst', 'uitkomst', 9) }}
        {{ text_value('uitkomst') }} is not null as uitkomst_ingevuld,
        {{ text_value('duur') }} as duur
    from source
)

select * from renamed
