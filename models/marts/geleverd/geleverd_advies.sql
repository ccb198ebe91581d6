-- The delivered adviezen of every loaded delivery, typed and as delivered, for the quality reports; its
-- columns and contract: _geleverd__models.yml (made from the layout), hence `select *`.
with

adviezen as (
    select * from {{ ref('stg_loader__adviezen') }}
)

select * from adviezen  -- noqa: AM04
