"""Offline classifiers: brand query matching and spaCy components that tag each mention."""
