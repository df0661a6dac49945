"""Parsers turn one source's text into ``Section``s; ``registry`` maps suffixes to them."""
