"""Leak detection (personal data, secrets, confidential information) and its spaCy component."""
