{{ config(alias='indicatoren_' ~ var('release')) }}

-- The ten indicators per half-year, per VT-regio and NL, as numerator and denominator (publicatie.md);
-- percentages, suppression and symbols are made when publishing, from these unrounded counts.
with

perioden as (
    select * from {{ ref('int_perioden_afgebakend') }}
),

adviezen_per_regio as (
    select
        adviezen.verslagperiode,
        adviezen.vtcode_gaaf as vt_code,
        count(*) filter (where adviezen.rol_gaaf = '10') as beroepsmatig,
        count(*) filter (where adviezen.aard_1) as kindermishandeling,
        count(*) filter (where adviezen.aanvullende_informatie_1) as conflictscheiding,
        count(*) as gestart
    from {{ ref('int_adviezen_gaafgemaakt') }} as adviezen
    inner join perioden on adviezen.verslagperiode = perioden.verslagperiode
    where adviezen.startdatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by adviezen.verslagperiode, adviezen.vtcode_gaaf
),

beoordelingen as (
    select * from {{ ref('int_veiligheidsbeoordelingen_gaafgemaakt') }}
    where laatste_versie
),

meldingen_per_regio as (
    select
        meldingen.verslagperiode,
        meldingen.vtcode_gaaf as vt_code,
        count(*) filter (where meldingen.organisatie_gaaf in ('13', '14')) as politie_justitie,
        count(*) filter (where meldingen.aard_2) as partnergeweld,
        count(*) filter (where meldingen.aanvullende_informatie_2) as eergerelateerd,
        count(*) filter (where beoordelingen.inhoud_gaaf = '2') as overdracht,
        count(*) filter (where beoordelingen.veiligheidstaxatie_gaaf = '1') as acute_onveiligheid,
        count(*) as ontvangen
    from {{ ref('int_meldingen_gaafgemaakt') }} as meldingen
    inner join perioden on meldingen.verslagperiode = perioden.verslagperiode
    left join beoordelingen
        on meldingen.vt_code = beoordelingen.vt_code and meldingen.meldingnummer = beoordelingen.meldingnummer
    where meldingen.datum_melding_gaaf between perioden.periode_start and perioden.periode_einde
    group by meldingen.verslagperiode, meldingen.vtcode_gaaf
),

onderzoeken_per_regio as (
    select
        onderzoeken.verslagperiode,
        onderzoeken.vtcode_gaaf as vt_code,
        count(*) filter (where onderzoeken.uitkomst_6) as km_bevestigd,
        count(*) filter (where onderzoeken.uitkomst_4 or onderzoeken.uitkomst_5 or onderzoeken.uitkomst_6)
            as km_beoordeeld
    from {{ ref('int_onderzoeken_gaafgemaakt') }} as onderzoeken
    inner join perioden on onderzoeken.verslagperiode = perioden.verslagperiode
    where onderzoeken.einddatum_gaaf between perioden.periode_start and perioden.periode_einde
    group by onderzoeken.verslagperiode, onderzoeken.vtcode_gaaf
),

overdrachten_per_regio as (
    select
        verslagperiode,
        vtcode_gaaf as vt_code,
        count(*) filter (where partij_gaaf in ('05', '06', '09')) as jeugd,
        count(*) as totaal
    from {{ ref('int_overdrachten_toegerekend') }}
    group by verslagperiode, vtcode_gaaf
),

adviezen as (
    {{ met_nl_totaal('adviezen_per_regio', ['beroepsmatig', 'kindermishandeling', 'conflictscheiding', 'gestart']) }}
),

meldingen as (
    {{ met_nl_totaal('meldingen_per_regio', [
        'politie_justitie',
        'partnergeweld',
        'eergerelateerd',
        'overdracht',
        'acute_onveiligheid',
        'ontvangen',
    ]) }}
),

onderzoeken as (
    {{ met_nl_totaal('onderzoeken_per_regio', ['km_bevestigd', 'km_beoordeeld']) }}
),

overdrachten as (
    {{ met_nl_totaal('overdrachten_per_regio', ['jeugd', 'totaal']) }}
),

final as (
    select
        verslagperiode,
        vt_code,
        'adviezen_beroepsmatig_pct' as indicator,
        beroepsmatig as teller,
        gestart as noemer
    from adviezen
    union all
    select
        verslagperiode,
        vt_code,
        'adviezen_kindermishandeling_pct' as indicator,
        kindermishandeling as teller,
        gestart as noemer
    from adviezen
    union all
    select
        verslagperiode,
        vt_code,
        'adviezen_conflictscheiding_pct' as indicator,
        conflictscheiding as teller,
        gestart as noemer
    from adviezen
    union all
    select
        verslagperiode,
        vt_code,
        'meldingen_politie_justitie_pct' as indicator,
        politie_justitie as teller,
        ontvangen as noemer
    from meldingen
    union all
    select
        verslagperiode,
        vt_code,
        'meldingen_partnergeweld_pct' as indicator,
        partnergeweld as teller,
        ontvangen as noemer
    from meldingen
    union all
    select
        verslagperiode,
        vt_code,
        'meldingen_eergerelateerd_pct' as indicator,
        eergerelateerd as teller,
        ontvangen as noemer
    from meldingen
    union all
    select
        verslagperiode,
        vt_code,
        'meldingen_overdracht_pct' as indicator,
        overdracht as teller,
        ontvangen as noemer
    from meldingen
    union all
    select
        verslagperiode,
        vt_code,
        'meldingen_acute_onveiligheid_pct' as indicator,
        acute_onveiligheid as teller,
        ontvangen as noemer
    from meldingen
    union all
    select
        verslagperiode,
        vt_code,
        'onderzoeken_km_bevestigd_pct' as indicator,
        km_bevestigd as teller,
        km_beoordeeld as noemer
    from onderzoeken
    union all
    select
        verslagperiode,
        vt_code,
        'overdrachten_jeugd_pct' as indicator,
        jeugd as teller,
        totaal as noemer
    from overdrachten
)

select * from final
