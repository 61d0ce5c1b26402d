"""sector_overrides.yaml: optional, validated like the other config files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import CONFIG_DIR

from catalyst.config.loader import load_settings
from catalyst.domain.errors import ConfigError


def _config_with_sectors(tmp_path: Path, text: str | None) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    sectors = target / "sector_overrides.yaml"
    if text is None:
        sectors.unlink()
    else:
        sectors.write_text(text)
    return target


def test_missing_sector_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_settings(_config_with_sectors(tmp_path, None), {}).sector_overrides == {}


def test_shipped_sector_file_loads_empty() -> None:
    assert load_settings(CONFIG_DIR, {}).sector_overrides == {}


def test_sector_overrides_are_loaded(tmp_path: Path) -> None:
    config = _config_with_sectors(tmp_path, "sectors:\n  AAPL: Information Technology\n")
    assert load_settings(config, {}).sector_overrides == {"AAPL": "Information Technology"}


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("sectors:\n  AAPL: Tech\n", "sectors.AAPL", "not a GICS sector"),
        ("sectors:\n  aapl: Energy\n", "sectors.aapl", "upper-case"),
        ("sector:\n  AAPL: Energy\n", "sector", "unknown key"),
        ("sectors: [AAPL]\n", "sectors", "mapping"),
    ],
)
def test_bad_sector_file_names_file_and_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    config = _config_with_sectors(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    assert caught.value.file.endswith("sector_overrides.yaml")
    assert caught.value.key == key
    assert problem in caught.value.problem
