-- Every day of the calendar with whether it is a working day and its running number among working days
-- (int_werkdagen_genummerd): what the quality rules on time limits count with.
with

werkdagen as (
    select
        datum,
        werkdag,
        cast(werkdagnummer as integer) as werkdagnummer
    from {{ ref('int_werkdagen_genummerd') }}
)

select * from werkdagen
