-- The delivered monitoringsmomenten of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

monitoringsmomenten as (
    select * from {{ ref('stg_loader__monitoringsmomenten') }}
)

select * from monitoringsmomenten  -- noqa: AM04
