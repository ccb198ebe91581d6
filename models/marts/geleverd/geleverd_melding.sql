-- The delivered meldingen of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

meldingen as (
    select * from {{ ref('stg_loader__meldingen') }}
)

select * from meldingen  -- noqa: AM04
