-- Every day 2015-2031 with a running number of working days (weekends and Dutch public holidays do not
-- count), so the working days between two dates are the difference of their numbers (KR07).
with

dagen as (
    select cast(range as date) as datum
    from range(date '2015-01-01', date '2032-01-01', interval 1 day)
),

feestdagen as (
    select * from {{ ref('feestdagen') }}
),

gemarkeerd as (
    select
        dagen.datum,
        isodow(dagen.datum) <= 5 and feestdagen.datum is null as werkdag
    from dagen
    left join feestdagen on dagen.datum = feestdagen.datum
),

genummerd as (
    select
        datum,
        werkdag,
        sum(case when werkdag then 1 else 0 end) over (order by datum) as werkdagnummer
    from gemarkeerd
)

select * from genummerd
