"""Watching the work: progress bars, versions, and the diagnostics distributed users know."""
