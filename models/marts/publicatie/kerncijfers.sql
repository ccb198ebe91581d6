{{ config(alias='kerncijfers_' ~ var('release')) }}

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

adviezen_per_regio as (
    select
        adviezen.verslagperiode,
        adviezen.vtcode_gaaf as vt_code,
        count(*) as gestarte_adviezen
    from {{ ref('int_adviezen_gaafgemaakt') }} as adviezen
    inner join perioden on adviezen.verslagperiode = perioden.verslagperiode
    where adviezen.startdatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by adviezen.verslagperiode, adviezen.vtcode_gaaf
),

meldingen_per_regio as (
    select
        meldingen.verslagperiode,
        meldingen.vtcode_gaaf as vt_code,
        count(*) as ontvangen_meldingen
    from {{ ref('int_meldingen_gaafgemaakt') }} as meldingen
    inner join perioden on meldingen.verslagperiode = perioden.verslagperiode
    where meldingen.datum_melding_gaaf between perioden.periode_start and perioden.periode_einde
    group by meldingen.verslagperiode, meldingen.vtcode_gaaf
),

casussen_per_regio as (
    {{ activiteit_tellingen('int_casussen_gaafgemaakt', 'casussen') }}
),

onderzoeken_per_regio as (
    {{ activiteit_tellingen('int_onderzoeken_gaafgemaakt', 'onderzoeken') }}
),

vv_per_regio as (
    {{ activiteit_tellingen('int_voorwaardenvervolg_gaafgemaakt', 'vv') }}
),

overdrachten_per_regio as (
    select
        verslagperiode,
        vtcode_gaaf as vt_code,
        count(*) as overdrachten
    from {{ ref('int_overdrachten_toegerekend') }}
    group by verslagperiode, vtcode_gaaf
),

adviezen as (
    {{ met_nl_totaal('adviezen_per_regio', ['gestarte_adviezen']) }}
),

meldingen as (
    {{ met_nl_totaal('meldingen_per_regio', ['ontvangen_meldingen']) }}
),

casussen as (
    {{ met_nl_totaal('casussen_per_regio', ['actieve_casussen', 'gestarte_casussen', 'gesloten_casussen']) }}
),

onderzoeken as (
    {{ met_nl_totaal('onderzoeken_per_regio', [
        'actieve_onderzoeken',
        'gestarte_onderzoeken',
        'gesloten_onderzoeken',
    ]) }}
),

vv as (
    {{ met_nl_totaal('vv_per_regio', ['actieve_vv', 'gestarte_vv', 'gesloten_vv']) }}
),

overdrachten as (
    {{ met_nl_totaal('overdrachten_per_regio', ['overdrachten']) }}
),

final as (
    select
        regios.verslagperiode,
        regios.vt_code,
        regios.vt_naam,
        coalesce(adviezen.gestarte_adviezen, 0) as gestarte_adviezen,
        coalesce(meldingen.ontvangen_meldingen, 0) as ontvangen_meldingen,
        coalesce(casussen.actieve_casussen, 0) as actieve_casussen,
        coalesce(casussen.gestarte_casussen, 0) as gestarte_casussen,
        coalesce(casussen.gesloten_casussen, 0) as gesloten_casussen,
        coalesce(onderzoeken.actieve_onderzoeken, 0) as actieve_onderzoeken,
        coalesce(onderzoeken.gestarte_onderzoeken, 0) as gestarte_onderzoeken,
        coalesce(onderzoeken.gesloten_onderzoeken, 0) as gesloten_onderzoeken,
        coalesce(vv.actieve_vv, 0) as actieve_vv,
        coalesce(vv.gestarte_vv, 0) as gestarte_vv,
        coalesce(vv.gesloten_vv, 0) as gesloten_vv,
        coalesce(overdrachten.overdrachten, 0) as overdrachten
    from regios
    left join adviezen on regios.verslagperiode = adviezen.verslagperiode and regios.vt_code = adviezen.vt_code
    left join meldingen on regios.verslagperiode = meldingen.verslagperiode and regios.vt_code = meldingen.vt_code
    left join casussen on regios.verslagperiode = casussen.verslagperiode and regios.vt_code = casussen.vt_code
    left join onderzoeken
        on regios.verslagperiode = onderzoeken.verslagperiode and regios.vt_code = onderzoeken.vt_code
    left join vv on regios.verslagperiode = vv.verslagperiode and regios.vt_code = vv.vt_code
    left join overdrachten
        on regios.verslagperiode = overdrachten.verslagperiode and regios.vt_code = overdrachten.vt_code
)

select * from final
