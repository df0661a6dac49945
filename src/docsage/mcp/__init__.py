"""The MCP front end: docsage's search, read, ask and list as tools (and sections as
resources) for agents, over stdio (``docsage mcp``) and Streamable HTTP (``/mcp`` on
``docsage serve``). Every tool calls the same ``Service`` methods as the REST API."""
