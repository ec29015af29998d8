"""The donor's cart, kept server-side, and its forms."""
