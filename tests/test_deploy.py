"""deploy/kubernetes.yaml is valid against the Kubernetes schemas and drains the way the server does."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import yaml

MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes.yaml"


def test_every_resource_validates_strictly_against_the_kubernetes_schemas():
    resources = [r for r in yaml.safe_load_all(MANIFEST.read_text()) if r]
    assert {r["kind"] for r in resources} == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
    }
    for resource in resources:
        kubernetes_validate.validate(resource, kubernetes_validate.latest_version(), strict=True)


def test_pods_probe_health_and_get_the_servers_grace_period():
    for resource in yaml.safe_load_all(MANIFEST.read_text()):
        if resource["kind"] != "Deployment":
            continue
        pod = resource["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/api/v1/health"
        assert container["livenessProbe"]["httpGet"]["path"] == "/api/v1/health"
        grace = int(container["args"][container["args"].index("--grace-seconds") + 1])
        assert pod["terminationGracePeriodSeconds"] > grace
        assert "memory" in container["resources"]["requests"]


def test_every_replica_shares_the_adapters_volume_and_the_database_url_from_a_secret():
    resources = list(yaml.safe_load_all(MANIFEST.read_text()))
    [claim] = [r for r in resources if r["kind"] == "PersistentVolumeClaim"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for resource in resources:
        if resource["kind"] != "Deployment":
            continue
        pod = resource["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["CHRONOS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "url"
        [volume] = [v for v in pod["volumes"] if v.get("persistentVolumeClaim")]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["mountPath"] == env["CHRONOS_DATA_DIR"]["value"]
