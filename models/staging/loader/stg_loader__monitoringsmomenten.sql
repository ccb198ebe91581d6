with

source as (
    select * from {{ source('loader', 'monitoring') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('monitoringnummer') }} as monitoringnummer,
        {{ text_value('casusnummer') }} as casusnummer,
        {{ date_value('datum_monitoring') }} as datum_monitoring,
        {{ text_value('datum_monitoring') }} is not null as datum_monitoring_ingevuld,
        {{ text_value('veiligheidsscore') }} as veiligheidsscore
    from source
)

select * from renamed
