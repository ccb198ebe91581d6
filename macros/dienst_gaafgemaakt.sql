{#-
    A dienst (Voorwaarden en Vervolg: VV, Onderzoek: ON) of the release, cleaned (G1, G2, G4, G5, G8) and linked
    to its casus: both kinds follow the same rules, and their fields (the flag fields: ON also has uitkomst)
    come from the layout.
-#}
{% macro dienst_gaafgemaakt(recordtype, staging_model) -%}
with

diensten as (
    {{ selected_records(staging_model, ['dienstnummer']) }}
),

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
    where laatste_versie
),

gedateerd as (
    select
        *,
        {{ date_gaaf('startdatum') }} as startdatum_g1,
        {{ date_gaaf('einddatum') }} as einddatum_g1
    from diensten
),

gaafgemaakt as (
    select
        diensten.levering_id,
        diensten.regelnummer,
        diensten.vt_code,
        diensten.dienstnummer,
        diensten.casusnummer,
        diensten.verslagperiode,
        diensten.startdatum_g1 as startdatum_gaaf,
        case when diensten.einddatum_g1 >= diensten.startdatum_g1 then diensten.einddatum_g1 end as einddatum_gaaf,
        coalesce(casussen.vtcode_gaaf, diensten.vt_code) as vtcode_gaaf,
        {{- flag_fields(recordtype, 'diensten') }}
        {{ code_gaaf('diensten.duur', recordtype) }} as duur_gaaf,
        casussen.casusnummer is null as wees_casus,
        {{ date_g1('startdatum') }} or {{ date_g1('einddatum') }} as g1_datum,
        coalesce(diensten.einddatum_g1 < diensten.startdatum_g1, false) as g2_volgorde,
        casussen.casusnummer is null as g4_regio_van_organisatie,
        {{ codes_g5(recordtype, 'diensten') }} as g5_code,
        diensten.in_meerdere_halfjaren as g8_meerdere_halfjaren,
        diensten.laatste_versie
    from gedateerd as diensten
    left join casussen on diensten.vt_code = casussen.vt_code and diensten.casusnummer = casussen.casusnummer
)

select * from gaafgemaakt
{%- endmacro %}
