{{ config(schema=release_schema()) }}
{#- every teller and noemer of the seed publicatie_maten is a count made, and every count made is used -#}
{{- vereist_alle_tellingen(publicatie_tellingen()) }}
-- Every count the publication is made of, per half-year of the release and VT-regio, plus NL (their sum): the one
-- source of truth of the kerncijfers and the indicators' numerators and denominators (publicatie.md). Each
-- half-year is counted from its own delivery's version of the records; a record counts in the region of its
-- vtcode_gaaf. A region has the counts of a kind of record only when it has such records in the half-year.
with

per_regio as (
    select * from {{ ref('int_instroomtellingen_berekend') }}
    union all
    select * from {{ ref('int_trajecttellingen_berekend') }}
),

final as (
    select
        verslagperiode,
        vt_code,
        telling,
        aantal
    from per_regio
    union all
    select
        verslagperiode,
        'NL' as vt_code,
        telling,
        cast(sum(aantal) as bigint) as aantal
    from per_regio
    group by verslagperiode, telling
)

select * from final
