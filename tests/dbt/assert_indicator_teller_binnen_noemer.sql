-- An indicator's numerator counts a subset of its denominator's records (publicatie.md), so a percentage is at
-- most 100: a row here is a teller or noemer of the seed publicatie_maten that names the wrong count.
select
    verslagperiode,
    vt_code,
    indicator,
    teller,
    noemer
from {{ ref('indicatoren') }}
where teller > noemer or teller < 0
