{{ config(schema=release_schema()) }}
-- The half-years of the release with their first and last day.
with

kalender as (
    select * from {{ ref('int_releases_gepland') }}
    where release = {{ sql_text(release_var('release')) }}
),

afgebakend as (
    select distinct
        verslagperiode,
        jaar,
        {{ periode_start('verslagperiode') }} as periode_start,
        {{ periode_einde('verslagperiode') }} as periode_einde
    from kalender
)

select * from afgebakend
