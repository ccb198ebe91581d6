-- NL is the sum of the regions for every count of the publication (int_regiotellingen_berekend): a row here is a
-- half-year and count whose national total is not the sum of its regions.
with

tellingen as (
    select * from {{ ref('int_regiotellingen_berekend') }}
),

nl as (
    select
        verslagperiode,
        telling,
        aantal
    from tellingen
    where vt_code = 'NL'
),

regios as (
    select
        verslagperiode,
        telling,
        sum(aantal) as som
    from tellingen
    where vt_code <> 'NL'
    group by verslagperiode, telling
)

select
    coalesce(nl.verslagperiode, regios.verslagperiode) as verslagperiode,
    coalesce(nl.telling, regios.telling) as telling,
    nl.aantal,
    regios.som
from nl
full outer join regios on nl.verslagperiode = regios.verslagperiode and nl.telling = regios.telling
where nl.aantal is distinct from regios.som
