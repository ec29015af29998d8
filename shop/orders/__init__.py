"""Orders, their lines and timeline, and the one state machine that moves them."""
