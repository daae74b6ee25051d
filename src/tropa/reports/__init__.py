"""Statistics from non-identifying metadata, with small-cell suppression (M11)."""
