-- The delivered onderzoeken of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

onderzoeken as (
    select * from {{ ref('stg_loader__onderzoeken') }}
)

select * from onderzoeken  -- noqa: AM04
