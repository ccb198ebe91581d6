{{ config(alias='kerncijfers_' ~ var('release')) }}
{#- the contract's columns, in its order (tests/test_publish.py checks them against the seed publicatie_maten) -#}
{%- set kerncijfers = [
    'gestarte_adviezen', 'ontvangen_meldingen',
    'actieve_casussen', 'gestarte_casussen', 'gesloten_casussen',
    'actieve_onderzoeken', 'gestarte_onderzoeken', 'gesloten_onderzoeken',
    'actieve_vv', 'gestarte_vv', 'gesloten_vv', 'overdrachten',
] %}

-- The twelve kerncijfers per VT-regio of the half-year's year, plus NL, unrounded (publicatie.md).
-- Rounding, suppression and symbols are applied when publishing (vt publish).
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

regios as (
    select
        perioden.verslagperiode,
        vt_regio.vt_code,
        vt_regio.vt_naam
    from perioden
    inner join {{ ref('stg_referentie__vt_regios') }} as vt_regio on perioden.jaar = vt_regio.jaar
    union all
    select
        verslagperiode,
        'NL' as vt_code,
        'Totaal' as vt_naam
    from perioden
),

tellingen as (
    select * from {{ ref('int_regiotellingen_berekend') }}
),

per_regio as (
    -- a row per half-year and region, a column per kerncijfer (one telling row each, so max is that row's count)
    select
        verslagperiode,
        vt_code,
        {%- for maat in kerncijfers %}
        max(aantal) filter (where telling = '{{ maat }}') as {{ maat }}{{ ',' if not loop.last }}
        {%- endfor %}
    from tellingen
    group by verslagperiode, vt_code
),

final as (
    select
        regios.verslagperiode,
        regios.vt_code,
        regios.vt_naam,
        {%- for maat in kerncijfers %}
        coalesce(per_regio.{{ maat }}, 0) as {{ maat }}{{ ',' if not loop.last }}
        {%- endfor %}
    from regios
    left join per_regio on regios.verslagperiode = per_regio.verslagperiode and regios.vt_code = per_regio.vt_code
)

select * from final
