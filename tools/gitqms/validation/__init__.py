"""Validation: schema and semantic checks that yield one stream of findings."""
