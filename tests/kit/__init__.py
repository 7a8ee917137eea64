"""Helpers shared by the tests: specs, contexts, tiny data and the mutation generator."""
