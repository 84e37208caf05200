"""The hub's config: the shipped example loads; errors name the key and the line."""
from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import ConfigError
from edge.hub.config import load_hub_config, parse_hub_config

REPO = Path(__file__).resolve().parents[2]


def test_the_example_config_loads():
    cfg = load_hub_config(REPO / "config" / "hub.example.yaml")
    assert cfg.database.type == "sqlite" and cfg.ingest.units == ["imf-belt-01", "imf-belt-02"]


@pytest.mark.parametrize("text,expected", [
    ("ingest:\n  units: [u1]\n  queue: 5\n", "<hub config>:3: ingest.queue:"),
    ("ingest:\n  units: ['bad/unit']\n", "<hub config>:2: ingest.units:"),
    ("database:\n  type: postgres\n  url: mysql://x@y/z\n", "<hub config>:3: database.url:"),
    ("mqtt:\n  group: 'a b'\n", "<hub config>:2: mqtt.group:"),
    ("hub_id: x\nwebb: {}\n", "<hub config>:2: webb: unknown key"),
])
def test_bad_values_name_key_and_line(text, expected):
    with pytest.raises(ConfigError) as err:
        parse_hub_config(text)
    assert any(line.startswith(expected) for line in err.value.lines), err.value.lines
