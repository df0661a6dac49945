"""docsage: cited answers from a project's own docs and code."""
