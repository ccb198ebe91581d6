{{ config(alias='VT_onderzoek_' ~ var('release')) }}

with

diensten as (
    select * from {{ ref('int_onderzoeken_gaafgemaakt') }}
    where laatste_versie
),

final as (
    select
        {{ coded_id('vt_code', 'ON', 'dienstnummer') }} as identificatienummer_dienst,
        {{ coded_id('vt_code', 'CA', 'casusnummer') }} as identificatienummer_casus,
        verslagperiode,
        {{ ymd('startdatum_gaaf') }} as startdatum_gaaf,
        {{ ymd('einddatum_gaaf') }} as einddatum_gaaf,
        vtcode_gaaf,
        {% for i in range(1, 8) %}aard_{{ i }},
        {% endfor -%}
        {% for i in range(1, 9) %}aanvullende_informatie_{{ i }},
        {% endfor -%}
        {% for i in range(1, 10) %}uitkomst_{{ i }},
        {% endfor -%}
        duur_gaaf
    from diensten
)

select * from final
order by identificatienummer_dienst
