"""cluster.yaml is a configuration `ray up` accepts, and it installs and starts this runtime."""

from pathlib import Path

import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).parents[1] / "cluster.yaml"


def test_cluster_yaml_is_valid_for_the_ray_launcher():
    raw = yaml.safe_load(CLUSTER.read_text())
    config = prepare_config(raw)  # what `ray up` does before validating
    validate_config(config)
    head_cmds = " ".join(config["head_start_ray_commands"])
    assert "ray start --head" in head_cmds and "switchboard serve" in head_cmds
    assert any("pip install" in c for c in config["setup_commands"])
