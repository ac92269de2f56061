"""``mobility info``: a summary of the loaded data (filled in by the integration step)."""
