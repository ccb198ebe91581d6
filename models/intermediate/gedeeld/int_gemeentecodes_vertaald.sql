-- G3 and G4 for every known gemeentecode in every half-year of the calendar and of the loaded deliveries: the
-- code after mergers and the VT-regio it lies in. A code not in this table is unknown: 9999 and the delivering
-- organisation's region. A year without a gemeente list or VT-regio list is never defaulted to 9999: it is
-- left out here, a release of such a year is stopped before any model is built (macro guard_release), and a
-- delivery of it gets no quality report until the lists are added.
with

kalender_perioden as (
    select distinct
        verslagperiode,
        jaar
    from {{ ref('int_releases_gepland') }}
),

geleverde_perioden as (
    select distinct
        verslagperiode,
        jaar
    from {{ ref('stg_loader__leveringen') }}
),

gemeenten as (
    select * from {{ ref('stg_referentie__gemeenten') }}
),

herindelingen as (
    select * from {{ ref('stg_referentie__herindelingen') }}
),

jaren_met_referentie as (
    select jaar from gemeenten
    intersect
    select jaar from {{ ref('stg_referentie__vt_regios') }}
),

alle_perioden as (
    select * from kalender_perioden
    union
    select * from geleverde_perioden
),

perioden as (
    select
        verslagperiode,
        jaar,
        {{ periode_einde('verslagperiode') }} as periode_einde
    from alle_perioden
    where jaar in (select jaren_met_referentie.jaar from jaren_met_referentie)
),

codes as (
    select gemeentecode from gemeenten
    union
    select oude_code from herindelingen
),

-- merged away on or before the end of the half-year: its successor, or 9999 when it was split
opgeheven as (
    select
        perioden.verslagperiode,
        herindelingen.oude_code,
        case when bool_or(herindelingen.splitsing = 'J') then '9999' else min(herindelingen.nieuwe_code) end
            as opvolger
    from herindelingen
    inner join perioden on herindelingen.ingangsdatum <= perioden.periode_einde
    group by perioden.verslagperiode, herindelingen.oude_code
),

vertaald as (
    select
        perioden.verslagperiode,
        codes.gemeentecode,
        coalesce(opgeheven.opvolger, geldig.gemeentecode, '9999') as gemeente_gaaf,
        perioden.jaar
    from perioden
    cross join codes
    left join opgeheven
        on perioden.verslagperiode = opgeheven.verslagperiode and codes.gemeentecode = opgeheven.oude_code
    left join gemeenten as geldig
        on perioden.jaar = geldig.jaar and codes.gemeentecode = geldig.gemeentecode
),

final as (
    select
        vertaald.verslagperiode,
        vertaald.gemeentecode,
        vertaald.gemeente_gaaf,
        regio.vt_code as vtcode_gemeente
    from vertaald
    left join gemeenten as regio
        on vertaald.jaar = regio.jaar and vertaald.gemeente_gaaf = regio.gemeentecode
)

select * from final
