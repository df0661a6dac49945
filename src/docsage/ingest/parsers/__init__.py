"""Parsers turn one source's text into ``Section``s; see ``registry`` for which suffix goes where."""
