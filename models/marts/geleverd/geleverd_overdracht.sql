-- The delivered overdrachten of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

overdrachten as (
    select * from {{ ref('stg_loader__overdrachten') }}
)

select * from overdrachten  -- noqa: AM04
