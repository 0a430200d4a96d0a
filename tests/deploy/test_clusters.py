"""The ``ray up`` configs in clusters/ are valid for the Ray we ship with, offline.

Each config goes through Ray's own ``prepare_config`` (defaults filled in, the
``local`` provider's host list turned into node types) and ``validate_config``
(Ray's JSON schema, ``ray/autoscaler/ray-schema.json``, plus its own checks).
Neither needs cloud credentials; what ``ray up`` does next (creating IAM roles,
key pairs, firewall rules) does, and is not checked here.
"""

import copy
import glob
import json
import os

import pytest
import yaml

CLUSTERS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "clusters")
CONFIGS = sorted(glob.glob(os.path.join(CLUSTERS, "*.yaml")))


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def prepared(config):
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = prepare_config(copy.deepcopy(config))
    validate_config(config)
    return config


def test_every_provider_is_shipped():
    providers = {load(path)["provider"]["type"] for path in CONFIGS}
    assert providers >= {"local", "aws", "gcp"}


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_is_valid_for_ray(path):
    config = prepared(load(path))
    assert config["head_node_type"] in config["available_node_types"]
    if config["provider"]["type"] == "local":
        # the fixed host list becomes the cluster: every worker IP joins
        (node_type,) = config["available_node_types"].values()
        assert node_type["min_workers"] == len(config["provider"]["worker_ips"])


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_passes_the_json_schema_directly(path):
    import jsonschema
    import ray.autoscaler

    schema_path = os.path.join(os.path.dirname(ray.autoscaler.__file__), "ray-schema.json")
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.validate(prepared(load(path)), schema)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_installs_rayexec_and_turns_token_auth_on(path):
    import ray

    config = load(path)
    setup = " ".join(config["setup_commands"])
    assert "rayexec" in setup
    assert "ray[default" in setup and f"=={ray.__version__}" in setup
    assert config["file_mounts"]["~/.ray/auth_token"] == "~/.ray/auth_token"
    for key, flag in (("head_start_ray_commands", "--head"),
                      ("worker_start_ray_commands", "--address=")):
        start = [c for c in config[key] if "ray start" in c]
        assert start and all("RAY_AUTH_MODE=token" in c and flag in c for c in start)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_validation_catches_a_broken_config(path):
    """The check above can fail: the same config with a wrong field is refused."""
    import jsonschema

    config = load(path)
    config["head_start_ray_commands"] = "ray start --head"  # must be a list
    with pytest.raises((jsonschema.ValidationError, ValueError)):
        prepared(config)
