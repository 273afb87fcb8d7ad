from django import template

from readerstudy.core.navigation import nav_bar_for

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_bar(context) -> list[dict]:
    request = context.get("request")
    if request is None:
        return []
    return nav_bar_for(request.user, request.path)
