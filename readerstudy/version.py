"""The platform's version, as installed (pyproject.toml), for the footer, the API schema,
exports and reports. Django-free."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("readerstudy")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
