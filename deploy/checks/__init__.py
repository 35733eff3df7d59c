"""The checks behind deploy/check.py, one module per kind of file."""
