"""One package per OpenStack service: its model (state and rules) apart from its HTTP API."""
