"""The campaign: its goals from settings, the cached progress totals, GET /api/campaign."""
