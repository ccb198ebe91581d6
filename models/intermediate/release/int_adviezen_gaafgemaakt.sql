{{ config(schema=release_schema()) }}
-- Adviezen of the release, cleaned (G1-G6, G8), with a flag per rule.
with

adviezen as (
    {{ selected_records('stg_loader__adviezen', ['adviesnummer']) }}
),

gemeenten as (
    select * from {{ ref('int_gemeentecodes_vertaald') }}
),

gedateerd as (
    select
        *,
        {{ date_gaaf('startdatum') }} as startdatum_g1,
        {{ date_gaaf('einddatum') }} as einddatum_g1,
        {{ code_gaaf('rol', 'AD') }} as rol_gaaf
    from adviezen
),

gaafgemaakt as (
    select
        gedateerd.levering_id,
        gedateerd.regelnummer,
        gedateerd.vt_code,
        gedateerd.adviesnummer,
        gedateerd.verslagperiode,
        gedateerd.startdatum_g1 as startdatum_gaaf,
        case when gedateerd.einddatum_g1 >= gedateerd.startdatum_g1 then gedateerd.einddatum_g1 end
            as einddatum_gaaf,
        coalesce(gemeenten.gemeente_gaaf, '9999') as gemeente_gaaf,
        coalesce(gemeenten.vtcode_gemeente, gedateerd.vt_code) as vtcode_gaaf,
        {{- flag_fields('AD', 'gedateerd') }}
        {{ code_gaaf('gedateerd.duur', 'AD') }} as duur_gaaf,
        gedateerd.rol_gaaf,
        case when gedateerd.rol_gaaf = '10' then {{ code_gaaf('gedateerd.organisatie', 'AD') }} end
            as organisatie_gaaf,
        {{ date_g1('startdatum') }} or {{ date_g1('einddatum') }} as g1_datum,
        coalesce(gedateerd.einddatum_g1 < gedateerd.startdatum_g1, false) as g2_volgorde,
        coalesce(gedateerd.gemeentecode <> coalesce(gemeenten.gemeente_gaaf, '9999'), true) as g3_gemeente,
        gemeenten.vtcode_gemeente is null as g4_regio_van_organisatie,
        {{ codes_g5('AD', 'gedateerd') }} as g5_code,
        gedateerd.organisatie is not null and coalesce(gedateerd.rol_gaaf <> '10', true) as g6_organisatie,
        gedateerd.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        gedateerd.laatste_versie
    from gedateerd
    left join gemeenten
        on gedateerd.verslagperiode = gemeenten.verslagperiode and gedateerd.gemeentecode = gemeenten.gemeentecode
)

select * from gaafgemaakt
