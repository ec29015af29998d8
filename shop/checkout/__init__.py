"""Checkout: turn the cart into an order and send the donor to Stripe Checkout."""
