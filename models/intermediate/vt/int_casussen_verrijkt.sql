-- Derived per casus (verwerking.md section 3): first melding date and the number of meldingen, diensten,
-- overdrachten, monitoringsmomenten and persons linked to it.
with

casussen as (
    select * from {{ ref('int_casussen_gaafgemaakt') }}
),

{% set children = [
    ('meldingen', 'int_meldingen_gaafgemaakt', 'count(*)', ''),
    ('vv', 'int_voorwaardenvervolg_gaafgemaakt', 'count(*)', ''),
    ('onderzoeken', 'int_onderzoeken_gaafgemaakt', 'count(*)', ''),
    ('overdrachten', 'int_overdrachten_gaafgemaakt', 'count(distinct overdrachtnummer)', ''),
    ('monitoringsmomenten', 'int_monitoringsmomenten_gaafgemaakt', 'count(*)', ''),
    ('betrokkenen', 'int_betrokkenen_gaafgemaakt', 'count(*)', ''),
] %}
{% for name, model, measure, _ in children %}
{{ name }} as (
    select
        vt_code,
        casusnummer,
        {{ measure }} as aantal
        {%- if name == 'meldingen' %},
        min(datum_melding_gaaf) as eerste_melding_datum
        {%- endif %}
    from {{ ref(model) }}
    group by vt_code, casusnummer
),

{% endfor %}
verrijkt as (
    select
        casussen.vt_code,
        casussen.casusnummer,
        meldingen.eerste_melding_datum,
        {% for name, _, _, _ in children %}coalesce({{ name }}.aantal, 0) as aantal_{{ name }}{{ "," if not loop.last }}
        {% endfor %}
    from casussen
    {% for name, _, _, _ in children %}
    left join {{ name }} on casussen.vt_code = {{ name }}.vt_code and casussen.casusnummer = {{ name }}.casusnummer
    {%- endfor %}
)

select * from verrijkt
