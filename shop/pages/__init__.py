"""The charity's own pages: about, contact, privacy and refund policy, worded by settings."""
