"""Portal views, one module per page area."""
