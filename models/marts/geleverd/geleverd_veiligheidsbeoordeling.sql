-- The delivered veiligheidsbeoordelingen of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

veiligheidsbeoordelingen as (
    select * from {{ ref('stg_loader__veiligheidsbeoordelingen') }}
)

select * from veiligheidsbeoordelingen  -- noqa: AM04
