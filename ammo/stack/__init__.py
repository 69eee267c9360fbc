"""Launchers of a deployment's real parts (clusters, proxies, poolers) for tests and scenarios."""
