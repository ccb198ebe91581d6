{{ config(schema=release_schema()) }}
-- The rows of the publication per half-year of the release: every VT-regio of the half-year's year, and NL, with
-- whether its figures are complete. A region is complete when its organisation delivered; NL only when every
-- region did (a national total of the regions that did deliver would undercount without a word).
with

geleverd as (
    select * from {{ ref('int_regios_geleverd') }}
),

regios as (
    select
        verslagperiode,
        vt_code,
        vt_naam,
        geleverd as volledig
    from geleverd
    union all
    select
        verslagperiode,
        'NL' as vt_code,
        'Totaal' as vt_naam,
        bool_and(geleverd) as volledig
    from geleverd
    group by verslagperiode
)

select * from regios
