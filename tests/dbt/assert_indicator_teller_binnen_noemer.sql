-- A percentage's numerator counts a subset of its denominator's records (publicatie.md), so it is at most 100: a
-- row here is a teller or noemer of the seed publicatie_maten that names the wrong count. Which indicators are
-- such shares their unit says (publicatie_eenheden.aandeel); no count is negative.
{%- set aandelen = [] -%}
{%- for m in publicatie_maten('indicatoren') if m['aandeel'] -%}
    {%- do aandelen.append(m['maat']) -%}
{%- endfor %}
select
    verslagperiode,
    vt_code,
    indicator,
    teller,
    noemer
from {{ ref('indicatoren') }}
where
    teller < 0
    or noemer < 0
    or (teller > noemer and list_contains({{ tojson(aandelen) | replace('"', "'") }}::varchar[], indicator))
