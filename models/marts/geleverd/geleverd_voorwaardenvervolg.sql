-- The delivered voorwaardenvervolg of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

voorwaardenvervolg as (
    select * from {{ ref('stg_loader__voorwaardenvervolg') }}
)

select * from voorwaardenvervolg  -- noqa: AM04
