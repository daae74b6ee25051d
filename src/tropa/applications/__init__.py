"""Visa, humanitarian visa and asylum applications for people at higher risk (M10)."""
