from django import template

from readerstudy.version import __version__

register = template.Library()


@register.simple_tag
def platform_version() -> str:
    """The installed platform version, for the page footer."""
    return __version__
