{#- Generic test: the combination of `columns` is unique (a composite primary key). -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as aantal
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
