"""Merch-shop coin API: employees log in, buy merch and send each other coins."""
