"""What the HTTP service adds around ``Docsage``: API keys, the request log, prices, budgets
and rate limits, caches, ingest jobs and traces. Front ends (``docsage.api``, the CLI) call
``docsage.service.core.Service``; nothing here knows about HTTP."""
