"""Products and bundles of the campaign; the storefront pages."""
