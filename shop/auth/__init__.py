"""Who is calling: passwords, tokens and the guessing policy."""
