{{ config(schema=release_schema()) }}
{#- the counts this model makes, per CTE: every teller and noemer of the seed publicatie_maten must be one -#}
{%- set counts = [
    ('adviezen', [
        'gestarte_adviezen', 'adviezen_beroepsmatig', 'adviezen_kindermishandeling', 'adviezen_conflictscheiding',
    ]),
    ('meldingen', [
        'ontvangen_meldingen', 'meldingen_politie_justitie', 'meldingen_partnergeweld', 'meldingen_eergerelateerd',
        'meldingen_overdracht', 'meldingen_acute_onveiligheid',
    ]),
    ('casussen', ['actieve_casussen', 'gestarte_casussen', 'gesloten_casussen']),
    ('onderzoeken', ['actieve_onderzoeken', 'gestarte_onderzoeken', 'gesloten_onderzoeken']),
    ('afgeronde_onderzoeken', ['onderzoeken_km_bevestigd', 'onderzoeken_km_beoordeeld']),
    ('vv', ['actieve_vv', 'gestarte_vv', 'gesloten_vv']),
    ('overdrachten', ['overdrachten', 'overdrachten_jeugd']),
] %}
{{- vereist_alle_tellingen(counts) }}
-- Every count the publication is made of, per half-year of the release and VT-regio, plus NL (their sum): the one
-- source of truth of the kerncijfers and the indicators' numerators and denominators (publicatie.md). Each
-- half-year is counted from its own delivery's version of the records; a record counts in the region of its
-- vtcode_gaaf. A region has the counts of a kind of record only when it has such records in the half-year.
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

beoordelingen as (
    select * from {{ ref('int_veiligheidsbeoordelingen_gaafgemaakt') }}
    where laatste_versie
),

adviezen as (
    select
        adviezen.verslagperiode,
        adviezen.vtcode_gaaf as vt_code,
        count(*) as gestarte_adviezen,
        count(*) filter (where adviezen.rol_gaaf = '10') as adviezen_beroepsmatig,
        count(*) filter (where adviezen.aard_1) as adviezen_kindermishandeling,
        count(*) filter (where adviezen.aanvullende_informatie_1) as adviezen_conflictscheiding
    from {{ ref('int_adviezen_gaafgemaakt') }} as adviezen
    inner join perioden on adviezen.verslagperiode = perioden.verslagperiode
    where adviezen.startdatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by adviezen.verslagperiode, adviezen.vtcode_gaaf
),

meldingen as (
    select
        meldingen.verslagperiode,
        meldingen.vtcode_gaaf as vt_code,
        count(*) as ontvangen_meldingen,
        count(*) filter (where meldingen.organisatie_gaaf in ('13', '14')) as meldingen_politie_justitie,
        count(*) filter (where meldingen.aard_2) as meldingen_partnergeweld,
        count(*) filter (where meldingen.aanvullende_informatie_2) as meldingen_eergerelateerd,
        count(*) filter (where beoordelingen.inhoud_gaaf = '2') as meldingen_overdracht,
        count(*) filter (where beoordelingen.veiligheidstaxatie_gaaf = '1') as meldingen_acute_onveiligheid
    from {{ ref('int_meldingen_gaafgemaakt') }} as meldingen
    inner join perioden on meldingen.verslagperiode = perioden.verslagperiode
    left join beoordelingen
        on meldingen.vt_code = beoordelingen.vt_code and meldingen.meldingnummer = beoordelingen.meldingnummer
    where meldingen.datum_melding_gaaf between perioden.periode_start and perioden.periode_einde
    group by meldingen.verslagperiode, meldingen.vtcode_gaaf
),

casussen as (
    {{ activiteit_tellingen('int_casussen_gaafgemaakt', 'casussen') }}
),

onderzoeken as (
    {{ activiteit_tellingen('int_onderzoeken_gaafgemaakt', 'onderzoeken') }}
),

afgeronde_onderzoeken as (
    select
        onderzoeken.verslagperiode,
        onderzoeken.vtcode_gaaf as vt_code,
        count(*) filter (where onderzoeken.uitkomst_6) as onderzoeken_km_bevestigd,
        count(*) filter (where onderzoeken.uitkomst_4 or onderzoeken.uitkomst_5 or onderzoeken.uitkomst_6)
            as onderzoeken_km_beoordeeld
    from {{ ref('int_onderzoeken_gaafgemaakt') }} as onderzoeken
    inner join perioden on onderzoeken.verslagperiode = perioden.verslagperiode
    where onderzoeken.einddatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by onderzoeken.verslagperiode, onderzoeken.vtcode_gaaf
),

vv as (
    {{ activiteit_tellingen('int_voorwaardenvervolg_gaafgemaakt', 'vv') }}
),

overdrachten as (
    select
        verslagperiode,
        vtcode_gaaf as vt_code,
        count(*) as overdrachten,
        count(*) filter (where partij_gaaf in ('05', '06', '09')) as overdrachten_jeugd
    from {{ ref('int_overdrachten_toegerekend') }}
    group by verslagperiode, vtcode_gaaf
),

per_regio as (
    {{ alle_tellingen(counts) }}
),

final as (
    select
        verslagperiode,
        vt_code,
        telling,
        aantal
    from per_regio
    union all
    select
        verslagperiode,
        'NL' as vt_code,
        telling,
        cast(sum(aantal) as bigint) as aantal
    from per_regio
    group by verslagperiode, telling
)

select * from final
