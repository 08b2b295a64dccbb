"""Compute (Nova v2.1): servers and their actions, flavors, keypairs, quotas and the rest."""
