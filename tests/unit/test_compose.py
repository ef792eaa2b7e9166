"""docker-compose.yml agrees with the code: there is no Docker engine here, so this reads it closely."""
import re
from pathlib import Path

import pytest
import yaml

from shared import config as config_module

ROOT = Path(__file__).resolve().parents[2]
APPS = {"survey": "services.survey:create_app()", "gateway": "gateway:create_app()"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def manyi_services(compose):
    return {name: svc for name, svc in compose["services"].items()
            if name in ("survey", "scoring", "delivery", "gateway")}


def test_the_four_processes_rabbitmq_mongodb_and_the_proxy_are_there(compose):
    assert set(compose["services"]) == {"rabbitmq", "mongo", "survey", "scoring", "delivery", "gateway", "proxy"}


def test_every_variable_is_one_the_code_reads(compose):
    for name, svc in manyi_services(compose).items():
        unknown = [v for v in svc["environment"] if v.startswith("MANYI_") and v not in config_module.DEFAULTS]
        assert not unknown, f"{name} sets variables shared/config.py never reads: {unknown}"


def test_every_process_is_pointed_at_the_compose_broker_and_database(compose):
    rabbit = compose["services"]["rabbitmq"]["environment"]
    for name, svc in manyi_services(compose).items():
        env = svc["environment"]
        amqp = re.fullmatch(r"amqp://(\w+):(.+)@rabbitmq:5672/%2F", env["MANYI_AMQP_URL"])
        assert amqp, f"{name}: MANYI_AMQP_URL must name the rabbitmq service"
        assert (amqp.group(1), amqp.group(2)) == (rabbit["RABBITMQ_DEFAULT_USER"], rabbit["RABBITMQ_DEFAULT_PASS"])
        assert env["MANYI_MONGO_URL"] == "mongodb://mongo:27017/?replicaSet=rs0"
        assert env["MANYI_SURVEY_DB"] == config_module.DEFAULTS["MANYI_SURVEY_DB"]
        assert env["MANYI_SCORES_DB"] == config_module.DEFAULTS["MANYI_SCORES_DB"]
        assert env.get("MANYI_GATEWAY_DB", config_module.DEFAULTS["MANYI_GATEWAY_DB"]) == \
            config_module.DEFAULTS["MANYI_GATEWAY_DB"]
        assert "MANYI_ADMIN_KEY" in env, f"{name} checks keys and needs the admin key"
        assert set(svc["depends_on"]) == {"rabbitmq", "mongo"}


def test_mongodb_is_a_one_node_replica_set_named_like_the_url(compose):
    mongo = compose["services"]["mongo"]
    assert mongo["image"].startswith("mongo:")
    assert mongo["command"][mongo["command"].index("--replSet") + 1] == "rs0"
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"]) and "mongo:27017" in " ".join(mongo["healthcheck"]["test"])


def test_web_processes_run_the_app_factories_under_gunicorn_on_their_default_ports(compose):
    public_port = config_module.DEFAULTS["MANYI_PUBLIC_URL"].rsplit(":", 1)[1]
    ports = {"survey": public_port, "gateway": "8002"}
    for name, factory in APPS.items():
        svc = compose["services"][name]
        command = svc["command"]
        assert command[0] == "gunicorn" and command[-1] == factory
        assert command[command.index("-b") + 1] == f"0.0.0.0:{ports[name]}"
        assert "ports" not in svc and svc["expose"] == [ports[name]]  # only through the proxy (issue 11)
        assert f"{ports[name]}:{ports[name]}" in compose["services"]["proxy"]["ports"]
        assert f"127.0.0.1:{ports[name]}/readyz" in " ".join(svc["healthcheck"]["test"])
        module = factory.split(":")[0]
        assert (ROOT / module.replace(".", "/")).is_dir()


def test_the_worker_health_check_uses_the_port_it_is_configured_with(compose):
    svc = compose["services"]["scoring"]
    assert svc["command"] == ["python", "-m", "services.scoring"]
    port = svc["environment"]["MANYI_SCORING_HEALTH_PORT"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(svc["healthcheck"]["test"])


def test_the_delivery_worker_health_check_uses_the_port_it_is_configured_with(compose):
    svc = compose["services"]["delivery"]
    assert svc["command"] == ["python", "-m", "services.delivery"]
    port = svc["environment"]["MANYI_DELIVERY_HEALTH_PORT"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(svc["healthcheck"]["test"])


def test_the_image_contains_every_package_the_processes_import(compose):
    dockerfile = (ROOT / compose["services"]["survey"]["build"]["dockerfile"]).read_text()
    for package in ("shared", "services", "gateway", "manyi", "deploy/gunicorn.conf.py"):
        assert re.search(rf"^COPY {re.escape(package)} ", dockerfile, re.M), f"the image lacks {package}"


def test_deploy_readme_documents_every_variable_with_its_default():
    doc = (ROOT / "deploy" / "README.md").read_text()
    for name, default in config_module.DEFAULTS.items():
        row = re.search(rf"^\| `{name}` \| (.*?) \|", doc, re.M)
        assert row, f"deploy/README.md does not list {name}"
        if default and name != "MANYI_WORKER_ID":
            assert f"`{default}`" in row.group(1), f"{name}: the documented default differs from {default!r}"


def test_the_proxy_buffers_requests_with_timeouts_and_forwards_the_client(compose):
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert set(proxy["ports"]) == {"8001:8001", "8002:8002"}
    assert set(proxy["depends_on"]) == {"survey", "gateway"}
    (mount,) = proxy["volumes"]
    source, target = mount.split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    conf = (ROOT / source).read_text()
    for directive in ("client_header_timeout 10s", "client_body_timeout 30s", "proxy_request_buffering on",
                      "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for",
                      "proxy_pass http://survey:8001", "proxy_pass http://gateway:8002"):
        assert directive in conf, directive
    assert conf.count("{") == conf.count("}")
    for name in APPS:  # the apps believe exactly one proxy hop, from the compose network
        env = compose["services"][name]["environment"]
        assert env["MANYI_PROXY_HOPS"] == "1"
        trusted = env.get("MANYI_TRUSTED_PROXIES", config_module.DEFAULTS["MANYI_TRUSTED_PROXIES"])
        assert "172.16.0.0/12" in trusted  # docker's default bridge networks


def test_web_processes_run_the_buffering_worker():
    conf = (ROOT / "deploy/gunicorn.conf.py").read_text()
    assert 'worker_class = "shared.http_worker.BufferingWorker"' in conf
