"""Orchestration (Heat v1): the REST API over the template engine in :mod:`stacksim.heat`."""
