-- The half-years of the release with their first and last day.
with

kalender as (
    select * from {{ ref('releasekalender') }}
    where release = '{{ var("release") }}'
),

afgebakend as (
    select distinct
        verslagperiode,
        jaar,
        make_date(jaar, case when right(verslagperiode, 1) = '1' then 1 else 7 end, 1) as periode_start,
        make_date(jaar, case when right(verslagperiode, 1) = '1' then 6 else 12 end, 1)
        + interval 1 month - interval 1 day as periode_einde
    from kalender
)

select * from afgebakend
