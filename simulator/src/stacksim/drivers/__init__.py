"""Compute drivers: what an instance is (``fake``: a record and a console log)."""
