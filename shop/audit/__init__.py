"""The audit log: every staff action, who took it, when, and from which address."""
