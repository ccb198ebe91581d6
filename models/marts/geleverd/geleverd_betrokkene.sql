-- The delivered betrokkenen of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

betrokkenen as (
    select * from {{ ref('stg_loader__betrokkenen') }}
)

select * from betrokkenen  -- noqa: AM04
