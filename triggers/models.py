"""Models of triggers."""
