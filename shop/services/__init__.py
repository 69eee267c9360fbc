"""Business rules. Only services open transactions."""
