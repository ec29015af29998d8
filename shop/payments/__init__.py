"""The Stripe boundary: the only package that imports `stripe`."""
