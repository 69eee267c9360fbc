"""The HTTP layer: the middleware chain, the one error-to-response table, headers."""
