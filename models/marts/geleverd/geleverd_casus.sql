-- The delivered casussen of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

casussen as (
    select * from {{ ref('stg_loader__casussen') }}
)

select * from casussen  -- noqa: AM04
