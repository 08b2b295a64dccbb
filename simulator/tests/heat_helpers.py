"""What the orchestration tests share besides fixtures."""

from __future__ import annotations

from pathlib import Path

#: The demo's example stack (``make demo`` creates it), which the orchestration tests deploy.
MULTI_TIER = str(Path(__file__).resolve().parents[2] / "playbooks" / "templates" / "multi_tier.yaml")
