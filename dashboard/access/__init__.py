"""Who may do what: login by default, roles, API tokens, throttling and the security headers."""
