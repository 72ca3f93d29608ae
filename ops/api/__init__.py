"""REST endpoints of the ops app."""
