with

source as (
    select * from {{ source('loader', 'veiligheidsbeoordeling') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('meldingnummer') }} as meldingnummer,
        {{ text_value('casusnummer') }} as casusnummer,
        {{ date_value('datum_beoordeling') }} as datum_beoordeling,
        {{ text_value('datum_beoordeling') }} is not null as datum_beoordeling_ingevuld,
        {{ text_value('inhoud') }} as inhoud,
        {{ text_value('veiligheidstaxatie') }} as veiligheidstaxatie
    from source
)

select * from renamed
