{{ config(schema=release_schema()) }}
-- The deliveries of the release: per organisation and half-year of the release, the delivery valid on the
-- peildatum (int_leveringen_vervangen holds the rule, latest delivery wins).
with

kalender as (
    select
        verslagperiode,
        -- an explicit peildatum (var) overrides the calendar's
        coalesce(
            cast({{ sql_text(release_var('peildatum')) if release_var('peildatum') else 'null' }} as date), peildatum
        ) as peildatum
    from {{ ref('int_releases_gepland') }}
    where release = {{ sql_text(release_var('release')) }}
),

leveringen as (
    select * from {{ ref('int_leveringen_vervangen') }}
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
    where {{ geldig_op('leveringen', 'kalender.peildatum') }}
)

select * from geselecteerd
