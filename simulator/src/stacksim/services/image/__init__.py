"""Glance v2: images, their data, imports and members."""
