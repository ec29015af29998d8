"""Emails the shop sends: receipts, packing slips; built here and nowhere else."""
