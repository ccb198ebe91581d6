{#- Generic test: every row (matching `condition`) has a parent in `to` on all of `columns` = `to_columns`. -#}
{% test relationship_on(model, columns, to, to_columns, condition='true') %}

select child.*
from {{ model }} as child
where
    ({{ condition }})
    and not exists (
        select 1
        from {{ to }} as parent
        where
            {% for c in columns -%}
            child.{{ c }} = parent.{{ to_columns[loop.index0] }}{{ " and" if not loop.last }}
            {% endfor %}
    )

{% endtest %}
