"""Celery tasks: receipts, packing orders and the sweep. They import `shop`, never the reverse."""
