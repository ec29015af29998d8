"""Fill a unit together: single packages donors send as one unit's ten-pack."""
