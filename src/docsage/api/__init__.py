"""The HTTP front end: a FastAPI app over ``docsage.service.core.Service``.

Install with ``pip install "docsage[serve]"``; run with ``docsage serve``.
"""
