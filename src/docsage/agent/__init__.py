"""Agent mode: a chat model reads the docs through tools, within a budget, and its answer
is verified like any generative answer (``docsage ask --agent``)."""
