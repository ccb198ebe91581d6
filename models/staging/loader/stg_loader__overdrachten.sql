with

source as (
    select * from {{ source('loader', 'overdracht') }}
),

renamed as (
    select
        levering_id,
        regelnummer,
        trim(vt_code) as vt_code,
        {{ text_value('overdrachtnummer') }} as overdrachtnummer,
        {{ text_value('casusnummer') }} as casusnummer,
        {{ text_value('bron') }} as bron,
        {{ text_value('bronnummer') }} as bronnummer,
        {{ text_value('persoonsnummer') }} as persoonsnummer,
        {{ date_value('datum_overdracht') }} as datum_overdracht,
        {{ text_value('datum_overdracht') }} is not null as datum_overdracht_ingevuld,
        {{ text_value('partij') }} as partij,
        {{ text_value('hulp') }} as hulp
    from source
)

select * from renamed
