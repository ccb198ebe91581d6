-- Every delivered gemeentecode per half-year with the gemeente it stands for after the mergers (int_gemeentecodes_
-- vertaald): what the quality rules on gemeenten check against.
with

gemeentecodes as (
    select
        verslagperiode,
        gemeentecode,
        gemeente_gaaf,
        vtcode_gemeente
    from {{ ref('int_gemeentecodes_vertaald') }}
)

select * from gemeentecodes
