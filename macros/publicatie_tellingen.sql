{#-
    The counts of the publication, per count model and per CTE of that model ([(cte, [names])]): the one list of
    what int_instroomtellingen_berekend and int_trajecttellingen_berekend make (alle_tellingen turns each CTE's
    columns into rows) and what int_regiotellingen_berekend holds against the measures of the seed
    publicatie_maten (vereist_alle_tellingen). Without `model`: the counts of both models, in one list.
-#}
{% macro publicatie_tellingen(model=none) -%}
    {%- set per_model = {
        'int_instroomtellingen_berekend': [
            ('adviezen', [
                'gestarte_adviezen', 'adviezen_beroepsmatig', 'adviezen_kindermishandeling',
                'adviezen_conflictscheiding',
            ]),
            ('meldingen', [
                'ontvangen_meldingen', 'meldingen_politie_justitie', 'meldingen_partnergeweld',
                'meldingen_eergerelateerd', 'meldingen_overdracht', 'meldingen_acute_onveiligheid',
            ]),
        ],
        'int_trajecttellingen_berekend': [
            ('casussen', ['actieve_casussen', 'gestarte_casussen', 'gesloten_casussen']),
            ('onderzoeken', ['actieve_onderzoeken', 'gestarte_onderzoeken', 'gesloten_onderzoeken']),
            ('afgeronde_onderzoeken', ['onderzoeken_km_bevestigd', 'onderzoeken_km_beoordeeld']),
            ('vv', ['actieve_vv', 'gestarte_vv', 'gesloten_vv']),
            ('overdrachten', ['overdrachten', 'overdrachten_jeugd']),
        ],
    } -%}
    {%- if model is not none -%}
        {{ return(per_model[model]) }}
    {%- endif -%}
    {%- set all_counts = [] -%}
    {%- for counts in per_model.values() -%}
        {%- do all_counts.extend(counts) -%}
    {%- endfor -%}
    {{ return(all_counts) }}
{%- endmacro %}
