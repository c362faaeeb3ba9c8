"""deploy/ agrees with the project (plain tests).

There is no Docker engine or Kubernetes cluster where the tests run, so the
images are never built here; these checks catch the drift that would break
them: base images and pins that no longer match requirements, copied paths
that moved, environment variables the stores no longer read, secret keys that
do not line up.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
# Produced by `make install` / `make train`, not in the repository.
GENERATED = ("node_modules/", "build/spacy_pipeline/", "models/")


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", line.strip())
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def dockerfile(name: str) -> str:
    return (DEPLOY / name).read_text()


@pytest.mark.parametrize(
    ("name", "image", "package"), [("rasa.Dockerfile", "rasa/rasa", "rasa"), ("actions.Dockerfile", "rasa/rasa-sdk", "rasa-sdk")]
)
def test_base_image_matches_the_pinned_version(name, image, package):
    assert f"FROM {image}:{pins(PROJECT / 'requirements.in')[package]}\n" in dockerfile(name)


@pytest.mark.parametrize("name", ["rasa.Dockerfile", "actions.Dockerfile"])
def test_packages_installed_in_images_are_the_locked_versions(name):
    locked = pins(PROJECT / "requirements.lock")
    installed = re.findall(r'"([A-Za-z0-9_.\-]+)==([^"]+)"', dockerfile(name))
    assert installed
    for package, version in installed:
        assert locked[package.lower().replace("_", "-")] == version, package


@pytest.mark.parametrize("name", ["rasa.Dockerfile", "actions.Dockerfile"])
def test_copied_paths_exist_and_pass_the_dockerignore(name):
    text = dockerfile(name).replace("\\\n", " ")
    allowed = [line[1:] for line in (DEPLOY / f"{name}.dockerignore").read_text().splitlines() if line.startswith("!")]
    for line in text.splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, _ = line.split()[1:]
        for source in sources:
            assert any(source == a or source.startswith(a) for a in allowed), f"{source} is excluded by the .dockerignore"
            if not source.startswith(GENERATED):
                assert (PROJECT / source).exists(), source


def test_actions_image_has_what_the_action_server_imports():
    text = dockerfile("actions.Dockerfile")
    for directory in ("advisor/", "actions/", "catalogue/"):
        assert f"COPY {directory} " in text
    assert 'ENTRYPOINT ["python", "-m", "actions"]' in text


def test_rasa_values_select_the_stores_by_environment_and_secrets():
    values = yaml.safe_load((DEPLOY / "values-rasa.yaml").read_text())
    env = {item["name"]: item for item in values["extraEnv"]}
    stores_source = (PROJECT / "stores" / "tracker_store.py").read_text() + (PROJECT / "stores" / "lock_store.py").read_text()
    for name in ("TRACKER_STORE_URL", "TRACKER_STORE_PASSWORD", "LOCK_STORE_URL", "LOCK_STORE_PASSWORD"):
        assert f'"{name}"' in stores_source, f"the stores no longer read {name}"
    assert env["TRACKER_STORE_URL"]["value"].startswith("postgresql://")
    assert env["LOCK_STORE_URL"]["value"].startswith("redis://")
    # Every password and token comes from the Kubernetes secret, none is written here.
    for name in ("TRACKER_STORE_PASSWORD", "LOCK_STORE_PASSWORD", "RASA_AUTH_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "toolkit-advisor"
        assert "value" not in env[name]
    assert ":" not in env["TRACKER_STORE_URL"]["value"].split("@")[0].removeprefix("postgresql://")
    # Rasa runs as `make run` runs it: the project's endpoints and credentials, token auth, no CORS.
    args = values["args"]
    assert values["command"] == ["python", "-m", "ops.rasa_server"]
    assert args[args.index("--endpoints") + 1] == "config/endpoints.yml"
    assert args[args.index("--credentials") + 1] == "config/credentials.yml"
    assert args[args.index("--auth-token") + 1] == "$(RASA_AUTH_TOKEN)"
    assert "--cors" not in args
    assert "COPY endpoints.yml credentials.yml /app/config/" in dockerfile("rasa.Dockerfile")
    assert args[args.index("--model") + 1] == "models/toolkit-advisor.tar.gz"
    assert values["replicaCount"] >= 2


def test_action_server_url_points_at_the_action_server_release():
    rasa = yaml.safe_load((DEPLOY / "values-rasa.yaml").read_text())
    actions = yaml.safe_load((DEPLOY / "values-action-server.yaml").read_text())
    url = next(item["value"] for item in rasa["extraEnv"] if item["name"] == "ACTION_SERVER_URL")
    assert url == f"http://{actions['fullnameOverride']}/webhook" and actions["service"]["port"] == 80


def test_endpoints_name_the_configured_stores():
    endpoints = yaml.safe_load((PROJECT / "endpoints.yml").read_text())
    assert endpoints["tracker_store"]["type"] == "stores.tracker_store.ConfiguredTrackerStore"
    assert endpoints["lock_store"]["type"] == "stores.lock_store.ConfiguredLockStore"
    from rasa.shared.utils.common import class_from_module_path

    for key in ("tracker_store", "lock_store"):
        assert class_from_module_path(endpoints[key]["type"])
