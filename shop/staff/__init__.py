"""The staff area: log in, find and export orders, ship them, resend what failed."""
