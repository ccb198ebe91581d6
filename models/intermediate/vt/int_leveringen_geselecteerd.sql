-- Latest delivery wins: per organisation and half-year of the release, the delivery with the highest
-- leveringsnummer received on or before the peildatum (verwerking.md section 1).
with

kalender as (
    select
        verslagperiode,
        -- an explicit peildatum (var) overrides the calendar's
        coalesce(
            cast({{ "'" ~ var('peildatum') ~ "'" if var('peildatum') else 'null' }} as date), peildatum
        ) as peildatum
    from {{ ref('int_releases_gepland') }}
    where release = '{{ var("release") }}'
),

leveringen as (
    select * from {{ ref('stg_loader__leveringen') }}
),

geselecteerd as (
    select
        leveringen.levering_id,
        leveringen.vt_code,
        leveringen.verslagperiode,
        leveringen.leveringsnummer,
        leveringen.bestandsnaam,
        leveringen.checksum_sha256,
        leveringen.ontvangen_op,
        leveringen.geladen_op,
        leveringen.aantal_records,
        leveringen.jaar,
        leveringen.periode_start,
        leveringen.periode_einde,
        kalender.peildatum
    from leveringen
    inner join kalender on leveringen.verslagperiode = kalender.verslagperiode
    where leveringen.ontvangen_op < kalender.peildatum + interval 1 day
    qualify leveringen.leveringsnummer = max(leveringen.leveringsnummer) over (
        partition by leveringen.vt_code, leveringen.verslagperiode
    )
)

select * from geselecteerd
