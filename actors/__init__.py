"""Request actors, their Ray hosts, process actors and the journal (the bottom layer)."""
