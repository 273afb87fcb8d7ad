"""``python -m inference {predict,train,list-models}``."""

from .cli import main

raise SystemExit(main())
