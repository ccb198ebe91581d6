-- Derived per casus (verwerking.md section 3): first melding date and the number of meldingen, diensten,
-- overdrachten (counted once per overdracht, not per person), monitoringsmomenten and persons linked to it.
with

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

meldingen as (
    select
        vt_code,
        casusnummer,
        count(*) as aantal,
        min(datum_melding_gaaf) as eerste_melding_datum
    from {{ ref('int_meldingen_gaafgemaakt') }}
    where laatste_versie
    group by vt_code, casusnummer
),

vv as (
    select
        vt_code,
        casusnummer,
        count(*) as aantal
    from {{ ref('int_voorwaardenvervolg_gaafgemaakt') }}
    where laatste_versie
    group by vt_code, casusnummer
),

onderzoeken as (
    select
        vt_code,
        casusnummer,
        count(*) as aantal
    from {{ ref('int_onderzoeken_gaafgemaakt') }}
    where laatste_versie
    group by vt_code, casusnummer
),

overdrachten as (
    select
        vt_code,
        casusnummer,
        count(distinct overdrachtnummer) as aantal
    from {{ ref('int_overdrachten_gaafgemaakt') }}
    where laatste_versie
    group by vt_code, casusnummer
),

monitoringsmomenten as (
    select
        vt_code,
        casusnummer,
        count(*) as aantal
    from {{ ref('int_monitoringsmomenten_gaafgemaakt') }}
    where laatste_versie
    group by vt_code, casusnummer
),

betrokkenen as (
    select
        vt_code,
        casusnummer,
        count(*) as aantal
    from {{ ref('int_betrokkenen_gaafgemaakt') }}
    where laatste_versie
    group by vt_code, casusnummer
),

verrijkt as (
    select
        casussen.vt_code,
        casussen.casusnummer,
        meldingen.eerste_melding_datum,
        coalesce(meldingen.aantal, 0) as aantal_meldingen,
        coalesce(vv.aantal, 0) as aantal_vv,
        coalesce(onderzoeken.aantal, 0) as aantal_onderzoeken,
        coalesce(overdrachten.aantal, 0) as aantal_overdrachten,
        coalesce(monitoringsmomenten.aantal, 0) as aantal_monitoringsmomenten,
        coalesce(betrokkenen.aantal, 0) as aantal_betrokkenen
    from casussen
    left join meldingen
        on casussen.vt_code = meldingen.vt_code and casussen.casusnummer = meldingen.casusnummer
    left join vv
        on casussen.vt_code = vv.vt_code and casussen.casusnummer = vv.casusnummer
    left join onderzoeken
        on casussen.vt_code = onderzoeken.vt_code and casussen.casusnummer = onderzoeken.casusnummer
    left join overdrachten
        on casussen.vt_code = overdrachten.vt_code and casussen.casusnummer = overdrachten.casusnummer
    left join monitoringsmomenten
        on casussen.vt_code = monitoringsmomenten.vt_code and casussen.casusnummer = monitoringsmomenten.casusnummer
    left join betrokkenen
        on casussen.vt_code = betrokkenen.vt_code and casussen.casusnummer = betrokkenen.casusnummer
)

select * from verrijkt
