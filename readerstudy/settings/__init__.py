"""Settings modules: ``base`` (environment-driven defaults), ``production``, ``test``."""
