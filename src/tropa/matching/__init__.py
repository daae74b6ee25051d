"""Matching waiting service requests to volunteers (min-cost assignment, M7)."""
