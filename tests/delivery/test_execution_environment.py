# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an execution environment needs, checked with ansible-builder (v3 schema).

The collection's meta/execution-environment.yml names requirements.txt and bindep.txt;
``ansible-builder introspect`` of the installed tarball must find their packages, as the
image build does. ``ansible-builder create`` of docs/execution-environment.yml (with the
collection taken from the local tarball instead of Galaxy) must lay out a build context.
Building the image itself pulls a base image from a container registry, which this
machine cannot reach, so no image is built here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from ansible_builder.ee_schema import validate_schema

from .conftest import REPO, clean_env, run, tool

pytestmark = pytest.mark.delivery


def test_collection_metadata_is_valid_v3() -> None:
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 3
    validate_schema(meta)
    for key in ("python", "system"):
        assert (REPO / meta["dependencies"][key]).is_file(), f"{meta['dependencies'][key]} is missing"


def test_introspect_finds_the_collections_requirements(installed_collections: Path, tmp_path: Path) -> None:
    proc = run(
        [tool("ansible-builder"), "introspect", str(installed_collections)], clean_env(tmp_path / "home"), tmp_path
    )
    found = yaml.safe_load(proc.stdout)
    assert "openstacksdk>=3.0  # from collection opensandbox.cloud" in found["python"], found
    assert any(line.startswith("ca-certificates") and "opensandbox.cloud" in line for line in found["system"]), found


def test_create_lays_out_the_build_context(collection_tarball: Path, tmp_path: Path) -> None:
    definition = yaml.safe_load((REPO / "docs" / "execution-environment.yml").read_text())
    validate_schema(definition)
    # The collection from this tarball (copied into the context) instead of from Galaxy.
    shutil.copy(collection_tarball, tmp_path / collection_tarball.name)
    definition["additional_build_files"] = [{"src": collection_tarball.name, "dest": "collections"}]
    definition["dependencies"]["galaxy"] = {
        "collections": [{"name": f"_build/collections/{collection_tarball.name}", "type": "file"}]
    }
    path = tmp_path / "execution-environment.yml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    context = tmp_path / "context"
    run(
        [tool("ansible-builder"), "create", "-f", str(path), "-c", str(context), "--output-filename", "Containerfile"],
        clean_env(tmp_path / "home"),
        tmp_path,
    )
    containerfile = (context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    for stage in ("AS base", "AS galaxy", "AS builder", "AS final"):
        assert stage in containerfile, f"{stage} is missing from the Containerfile"
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collections" / collection_tarball.name).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"][0]["name"].endswith(collection_tarball.name)
    assert (context / "_build" / "scripts" / "introspect.py").is_file()
