"""Identity (Keystone v3)."""
