"""Template helpers of counterguarantee: a rule's result next to the field it is about."""
from django import template

register = template.Library()


@register.filter
def hints(mapping, key):
    """``{{ form.cg_hints|hints:"rate" }}``: the findings about one field (a list, maybe empty)."""
    return (mapping or {}).get(key, [])
