with

source as (
    select * from {{ source('loader', 'melding') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('meldingnummer') }} as meldingnummer,
        {{ text_value('casusnummer') }} as casusnummer,
        {{ date_value('datum_melding') }} as datum_melding,
        {{ text_value('datum_melding') }} is not null as datum_melding_ingevuld,
        {{ text_value('rol') }} as rol,
        {{ text_value('organisatie') }} as organisatie,
        {{ text_value('anoniem') }} as anoniem,
        {{ flag_columns('aard', 'aard', 7) }}
        {{ text_value('aard') }} is not null as aard_ingevuld,
        {{ flag_columns('aanvullende_informatie', 'aanvullende_informatie', 8) }}
        {{ text_value('aanvullende_informatie') }} is not null as aanvullende_informatie_ingevuld,
        {{ text_value('duur') }} as duur,
        {{ text_value('aanleiding') }} as aanleiding,
        -- the raw column (a table column binds before a select alias): the loader writes every field of the
        -- delivery's layout version as text, so NULL means the version has no such field (0200)
        aanleiding is not null as aanleiding_in_layout
    from source
)

select * from renamed
