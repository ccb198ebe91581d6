-- Latest delivery wins: per organisation and half-year of the release, the delivery with the highest
-- leveringsnummer received on or before the peildatum (verwerking.md section 1).
with

kalender as (
    select
        verslagperiode,
        {% if var('peildatum') %}date '{{ var("peildatum") }}'{% else %}peildatum{% endif %} as peildatum
    from {{ ref('releasekalender') }}
    where release = '{{ var("release") }}'
),

leveringen as (
    select * from {{ ref('stg_loader__leveringen') }}
),

geselecteerd as (
    select
        leveringen.*,
        kalender.peildatum
    from leveringen
    inner join kalender on leveringen.verslagperiode = kalender.verslagperiode
    where leveringen.ontvangen_op < kalender.peildatum + interval 1 day
    qualify leveringen.leveringsnummer = max(leveringen.leveringsnummer) over (
        partition by leveringen.vt_code, leveringen.verslagperiode
    )
)

select * from geselecteerd
