"""Offline checks of the deployment files (no cluster, no docker engine).

* `helm lint --strict` with the default values and the production example;
* `helm template` with those and a few other value sets; every rendered object
  and every file in k8s/ is validated against the Kubernetes OpenAPI schemas
  (npm kubernetes-models, tools/k8s-validate.mjs);
* the contract of SPEC section 5 on the Deployment in each of them: rolling
  update never below the wanted replicas, readiness on /ready, liveness on
  /health, preStop and a grace period that covers preStop + DRAIN_TIMEOUT + the
  shutdown, resources, non-root read-only root filesystem, topology spread;
* every ConfigMap key is a setting the node knows (`syncrelay --help`);
* the Dockerfile: multi-stage on bookworm, non-root, and every path it copies
  exists.

Tools come from tools/install-k8s-tools.sh (SYNCRELAY_K8S_TOOLS overrides the
prefix); the node binary from SYNCRELAY_BIN or build/syncrelay.
"""

import json
import os
import re
import subprocess

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.environ.get("SYNCRELAY_K8S_TOOLS") or os.path.join(REPO, "build", "deps", "k8s-tools")
HELM = os.path.join(TOOLS, "bin", "helm")
CHART = os.path.join(REPO, "helm", "syncrelay")
PRODUCTION = os.path.join(REPO, "helm", "values-production.yaml")
K8S = os.path.join(REPO, "k8s")
BINARY = os.environ.get("SYNCRELAY_BIN") or os.path.join(REPO, "build", "syncrelay")

PEM_PRIV = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
PEM_PUB = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"

# The chart has no default secrets (it fails closed): renderings that use its
# own Secret pass these.
SECRETS = ["--set", "secrets.adminToken=admin-token", "--set", "secrets.jwtSecret=jwt-secret"]

# name -> helm arguments (besides the chart)
VALUE_SETS = {
    "default": SECRETS,
    "production": ["-f", PRODUCTION],
    # every optional feature on: each node setting reaches the pod
    "redis-tls-everything": SECRETS + [
        "--set", "redis.url=rediss://:pw@redis.example.com:6380/0",
        "--set", "redis.tls.existingSecret=redis-ca", "--set", "redis.tls.clientCertificate=true",
        "--set", "redis.tls.serverName=redis.internal", "--set", "tls.existingSecret=pod-tls",
        "--set", "autoscaling.enabled=true", "--set", "autoscaling.connectionsMetric.enabled=true",
        "--set-string", "secrets.jwtPrivateKey=" + PEM_PRIV,
        "--set-string", "secrets.jwtPublicKey=" + PEM_PUB],
    "external-redis-url": SECRETS + ["--set", "redis.url=redis://:pw@redis.example.com:6379/0",
                           "--set", "ingress.enabled=true", "--set", "ingress.tlsSecretName=tls",
                           "--set", "autoscaling.enabled=true",
                           "--set-string", "secrets.jwtPrivateKey=" + PEM_PRIV,
                           "--set-string", "secrets.jwtPublicKey=" + PEM_PUB],
    "bundled-redis-ephemeral": SECRETS + ["--set", "redis.bundled.persistence.enabled=false",
                                "--set", "podDisruptionBudget.enabled=false",
                                "--set", "serviceMonitor.enabled=true",
                                "--set", "config.drainTimeout=5",
                                "--set", "terminationGracePeriodSeconds=30"],
}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="session", autouse=True)
def tools_present():
    if not os.access(HELM, os.X_OK):
        pytest.fail("helm not found at %s: run `make k8s-tools` (tools/install-k8s-tools.sh)"
                    % HELM, pytrace=False)


def helm_template(args, release="relay"):
    r = run([HELM, "template", release, CHART, "--namespace", "syncrelay"] + args)
    assert r.returncode == 0, "helm template %s failed:\n%s" % (" ".join(args), r.stderr)
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def k8s_files():
    return sorted(f for f in os.listdir(K8S) if f.endswith((".yaml", ".yml")))


def k8s_objects():
    out = []
    for f in k8s_files():
        with open(os.path.join(K8S, f)) as fh:
            out += [("k8s/" + f, d) for d in yaml.safe_load_all(fh) if d]
    return out


def validate(items):
    """[(source, object)] -> validator output; fails on any invalid object."""
    payload = json.dumps([{"source": s, "object": o} for s, o in items])
    r = run(["node", os.path.join(REPO, "tools", "k8s-validate.mjs"), TOOLS], input=payload)
    bad = [line for line in r.stdout.splitlines() if not line.startswith("ok ")]
    assert r.returncode == 0 and not bad, "schema validation failed:\n%s%s" % (
        "\n".join(bad), r.stderr)
    assert len(r.stdout.splitlines()) == len(items)
    return r.stdout


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def one(objs, kind):
    found = by_kind(objs, kind)
    assert len(found) == 1, "want one %s, got %d" % (kind, len(found))
    return found[0]


# ---- helm -------------------------------------------------------------------------

@pytest.mark.parametrize("values", [SECRETS, ["-f", PRODUCTION]], ids=["default", "production"])
def test_helm_lint(values):
    r = run([HELM, "lint", "--strict", CHART] + values)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_rendered_objects_match_the_kubernetes_schemas(name):
    objs = helm_template(VALUE_SETS[name])
    validate([("helm:%s" % name, o) for o in objs])


def test_every_k8s_file_matches_the_kubernetes_schemas():
    items = k8s_objects()
    assert len(k8s_files()) >= 8
    with open(os.path.join(K8S, "examples", "secret.yaml")) as f:
        items.append(("k8s/examples/secret.yaml", yaml.safe_load(f)))
    validate(items)


def test_validator_rejects_a_bad_object():
    """The validator really validates (a string port, a missing container name)."""
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
           "spec": {"ports": [{"port": "eighty"}]}}
    payload = json.dumps([{"source": "test", "object": bad}])
    r = run(["node", os.path.join(REPO, "tools", "k8s-validate.mjs"), TOOLS], input=payload)
    assert r.returncode == 1 and "must be integer" in r.stdout, r.stdout + r.stderr


def test_default_values_make_every_object():
    objs = helm_template(SECRETS)
    kinds = sorted(o["kind"] for o in objs)
    assert kinds == sorted(["ConfigMap", "Secret", "Deployment", "Service", "Service",
                            "StatefulSet", "PodDisruptionBudget"]), kinds
    cm = one(objs, "ConfigMap")
    assert cm["data"]["REDIS_URL"] == "redis://relay-syncrelay-redis:6379"
    assert cm["data"]["DEV_TOKENS"] == "0"
    secret = one(objs, "Secret")
    assert set(secret["data"]) == {"ADMIN_TOKEN", "JWT_SECRET"}


def test_production_example():
    objs = helm_template(["-f", PRODUCTION])
    kinds = {o["kind"] for o in objs}
    assert {"HorizontalPodAutoscaler", "Ingress", "ServiceMonitor", "PodDisruptionBudget",
            "Deployment", "Service", "ConfigMap"} <= kinds, kinds
    assert "StatefulSet" not in kinds and "Secret" not in kinds, kinds  # external Redis, own Secret
    dep = one(objs, "Deployment")
    assert "replicas" not in dep["spec"], "the HPA owns replicas"
    env = {e["name"]: e for e in container(dep)["env"]}
    assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"]["name"] == "syncrelay-redis"
    assert env["ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "syncrelay-secrets"
    ing = one(objs, "Ingress")
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["spec"]["tls"][0]["hosts"] == ["relay.example.com"]
    assert int(ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    cm = one(objs, "ConfigMap")
    assert cm["data"]["DEV_TOKENS"] == "0"
    assert cm["data"]["JWT_PRIVATE_KEY"].startswith("/etc/syncrelay/secrets/")


def test_external_redis_url_is_a_secret():
    objs = helm_template(VALUE_SETS["external-redis-url"])
    assert not by_kind(objs, "StatefulSet")
    secrets = {s["metadata"]["name"]: s for s in by_kind(objs, "Secret")}
    assert "relay-syncrelay-redis-url" in secrets
    assert "REDIS_URL" not in one(objs, "ConfigMap")["data"]
    assert set(secrets["relay-syncrelay"]["data"]) >= {"jwt-private.pem", "jwt-public.pem"}


def test_config_change_rolls_the_pods():
    def checksum(args):
        # fixed secrets (the chart generates random ones); later --set wins
        dep = one(helm_template(["--set", "secrets.adminToken=a",
                                 "--set", "secrets.jwtSecret=b"] + args), "Deployment")
        return dep["spec"]["template"]["metadata"]["annotations"]
    a, b = checksum([]), checksum(["--set", "config.sessionTTL=60"])
    assert a["checksum/config"] != b["checksum/config"]
    assert a["checksum/secret"] == b["checksum/secret"]
    c = checksum(["--set", "secrets.adminToken=other"])
    assert c["checksum/secret"] != a["checksum/secret"]


@pytest.mark.parametrize("args", [[], ["--set", "secrets.adminToken=a"],
                                  ["--set", "secrets.jwtSecret=b"]],
                         ids=["none", "no-jwt-secret", "no-admin-token"])
def test_rendering_without_the_secrets_fails_with_a_message(args):
    r = run([HELM, "template", "x", CHART] + args)
    assert r.returncode != 0
    assert "secrets.adminToken and secrets.jwtSecret are required" in r.stderr, r.stderr


def test_existing_secret_renders_offline_and_its_keys_are_required():
    """Offline the Secret cannot be read: the pods' references must then stop them."""
    objs = helm_template(["--set", "secrets.existingSecret=mine"])
    assert "relay-syncrelay" not in {s["metadata"]["name"] for s in by_kind(objs, "Secret")}
    refs = secret_refs(one(objs, "Deployment"))
    assert {r["name"] for r in refs.values()} == {"mine"}
    assert all(r["optional"] is False for r in refs.values())


def secret_refs(dep):
    env = {e["name"]: e for e in container(dep).get("env", [])}
    return {k: env[k]["valueFrom"]["secretKeyRef"] for k in ("ADMIN_TOKEN", "JWT_SECRET")}


def test_secret_keys_are_never_optional():
    deps = [("k8s", one([o for _, o in k8s_objects()], "Deployment"))]
    deps += [(n, one(helm_template(a), "Deployment")) for n, a in VALUE_SETS.items()]
    deps.append(("existing", one(helm_template(["--set", "secrets.existingSecret=mine"]),
                                 "Deployment")))
    for where, dep in deps:
        for key, ref in secret_refs(dep).items():
            assert ref["key"] == key and ref.get("optional", False) is False, (where, ref)


def test_kubectl_apply_of_k8s_never_writes_a_secret():
    """`kubectl apply -f k8s/` (not recursive) must not overwrite a Secret made beforehand."""
    assert not [s for s, o in k8s_objects() if o["kind"] == "Secret"]
    with open(os.path.join(K8S, "examples", "secret.yaml")) as f:
        example = yaml.safe_load(f)
    assert example["kind"] == "Secret" and {"ADMIN_TOKEN", "JWT_SECRET"} <= set(example["stringData"])


@pytest.mark.parametrize("bad", ["config.sesionTTL=5", "autoscaling.enable=true",
                                 "config.logLevel=verbose", "redis.url=http://x",
                                 "serviceMonitor.intervall=5s"])
def test_schema_rejects_misspelt_or_bad_values(bad):
    r = run([HELM, "template", "x", CHART, "--set", bad] + SECRETS)
    assert r.returncode != 0 and "values don't meet the specifications" in r.stderr, r.stderr


def test_every_node_setting_is_settable_through_values():
    """What `syncrelay --help` lists reaches the pod from values (ConfigMap or env)."""
    objs = helm_template(VALUE_SETS["redis-tls-everything"])
    cm, dep = one(objs, "ConfigMap"), one(objs, "Deployment")
    given = set(cm["data"]) | {e["name"] for e in container(dep)["env"]}
    missing = node_settings_table() - given
    assert not missing, "settings the chart cannot set: %r" % sorted(missing)


def test_hpa_scales_on_connections_per_pod():
    hpa = one(helm_template(VALUE_SETS["redis-tls-everything"]), "HorizontalPodAutoscaler")
    kinds = {m["type"]: m for m in hpa["spec"]["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    pods = kinds["Pods"]["pods"]
    assert pods["metric"]["name"] == "syncrelay_connections"
    assert pods["target"] == {"type": "AverageValue", "averageValue": "14000"}  # 70 % of 20 000
    cpu_only = one(helm_template(VALUE_SETS["external-redis-url"]), "HorizontalPodAutoscaler")
    assert [m["type"] for m in cpu_only["spec"]["metrics"]] == ["Resource"]


def test_redis_tls_files_are_mounted_where_the_settings_point():
    objs = helm_template(VALUE_SETS["redis-tls-everything"])
    cm, dep = one(objs, "ConfigMap")["data"], one(objs, "Deployment")
    mounts = {m["name"]: m["mountPath"] for m in container(dep)["volumeMounts"]}
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    assert cm["REDIS_TLS_CA_FILE"] == mounts["redis-tls"] + "/ca.crt"
    assert cm["REDIS_TLS_CERT"].startswith(mounts["redis-tls"])
    assert vols["redis-tls"]["secret"]["secretName"] == "redis-ca"
    assert cm["TLS_CERT"] == mounts["tls"] + "/tls.crt"
    assert container(dep)["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    r = run([HELM, "template", "x", CHART, "--set", "redis.url=redis://r:6379",
             "--set", "redis.tls.existingSecret=ca"] + SECRETS)
    assert r.returncode != 0 and "rediss://" in r.stderr


def test_grace_period_shorter_than_the_drain_is_refused():
    r = run([HELM, "template", "x", CHART, "--set", "config.drainTimeout=60",
             "--set", "terminationGracePeriodSeconds=30"] + SECRETS)
    assert r.returncode != 0 and "terminationGracePeriodSeconds must cover" in r.stderr


def test_no_redis_at_all_is_refused():
    r = run([HELM, "template", "x", CHART, "--set", "redis.bundled.enabled=false"] + SECRETS)
    assert r.returncode != 0 and "redis.url" in r.stderr


# ---- the Deployment contract (k8s/ and every chart rendering) -----------------------

def container(dep):
    cs = dep["spec"]["template"]["spec"]["containers"]
    return next(c for c in cs if c["name"] == "syncrelay")


def deployments():
    out = [("k8s", one([o for _, o in k8s_objects()], "Deployment"),
            one([o for _, o in k8s_objects()], "ConfigMap"))]
    for name, args in sorted(VALUE_SETS.items()):
        objs = helm_template(args)
        out.append(("helm:" + name, one(objs, "Deployment"), one(objs, "ConfigMap")))
    return out


@pytest.mark.parametrize("where,dep,cm", deployments(), ids=lambda v: v if isinstance(v, str) else "")
def test_deployment_contract(where, dep, cm):
    spec, pod = dep["spec"], dep["spec"]["template"]["spec"]
    c = container(dep)
    ru = spec["strategy"]["rollingUpdate"]
    assert spec["strategy"]["type"] == "RollingUpdate" and ru["maxUnavailable"] == 0
    assert ru["maxSurge"] >= 1
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    port = c["ports"][0]
    assert port["name"] == "http" and str(port["containerPort"]) == cm["data"]["PORT"]
    # preStop, then the drain, then ~5 s of shutdown (close replies, Redis answers)
    pre = c["lifecycle"]["preStop"]["exec"]["command"]
    assert pre[0] == "sleep"
    drain = int(cm["data"]["DRAIN_TIMEOUT"])
    assert pod["terminationGracePeriodSeconds"] >= int(pre[1]) + drain + 5, (pre, drain)
    res = c["resources"]
    assert res["requests"]["cpu"] and res["requests"]["memory"] and res["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    keys = {t["topologyKey"] for t in pod["topologySpreadConstraints"]}
    assert "kubernetes.io/hostname" in keys
    env = {e["name"]: e for e in c.get("env", [])}
    assert env["NODE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert cm["data"]["DEV_TOKENS"] == "0"
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    assert "/tmp" in mounts  # writable scratch under a read-only root


def test_pdb_and_hpa_target_the_relay():
    for src, objs in [("k8s", [o for _, o in k8s_objects()]),
                      ("helm", helm_template(["-f", PRODUCTION]))]:
        dep = one(objs, "Deployment")
        labels = dep["spec"]["template"]["metadata"]["labels"]
        pdb = one(objs, "PodDisruptionBudget")
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), src
        hpa = one(objs, "HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"], src
        assert hpa["spec"]["minReplicas"] >= 2, src
        svc = [s for s in by_kind(objs, "Service") if s["spec"]["selector"].items() <= labels.items()]
        assert len(svc) == 1, src


def node_settings():
    r = run([BINARY, "--help"])
    assert r.returncode == 0, "cannot run %s --help: %s" % (BINARY, r.stderr)
    return set(re.findall(r"\b([A-Z][A-Z0-9_]{2,})\b", r.stdout))


def node_settings_table():
    """The variables of `syncrelay --help`'s table (second column)."""
    r = run([BINARY, "--help"])
    return {m[1] for m in re.finditer(r"^  --[a-z0-9-]+ +([A-Z][A-Z0-9_]+) ", r.stdout, re.M)}


def test_config_keys_are_node_settings():
    known = node_settings()
    assert {"PORT", "REDIS_URL", "DRAIN_TIMEOUT"} <= known
    cms = [("k8s", one([o for _, o in k8s_objects()], "ConfigMap"))]
    cms += [("helm:" + n, one(helm_template(a), "ConfigMap")) for n, a in VALUE_SETS.items()]
    for where, cm in cms:
        unknown = set(cm["data"]) - known
        assert not unknown, "%s: ConfigMap keys the node does not know: %r" % (where, unknown)
    with open(os.path.join(K8S, "examples", "secret.yaml")) as f:
        secret = yaml.safe_load(f)
    assert {"ADMIN_TOKEN", "JWT_SECRET"} <= set(secret["stringData"])


# ---- Dockerfile ----------------------------------------------------------------------

def test_dockerfile():
    with open(os.path.join(REPO, "Dockerfile")) as f:
        text = f.read()
    lines = [l.strip() for l in re.sub(r"\\\n", " ", text).splitlines()
             if l.strip() and not l.strip().startswith("#")]
    froms = [l for l in lines if l.upper().startswith("FROM ")]
    assert len(froms) >= 2, "not multi-stage"
    assert all("bookworm" in l for l in froms), froms
    final = lines[lines.index(froms[-1]):]
    users = [l.split()[1] for l in final if l.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root"), "final stage runs as root"
    # every local path a COPY takes must exist; the final stage copies only from the build
    for l in lines:
        if not l.upper().startswith("COPY "):
            continue
        parts = [p for p in l.split()[1:] if not p.startswith("--")]
        if "--from=" in l:
            assert l in final, "COPY --from in the build stage: %s" % l
            continue
        assert l not in final or l == froms[-1], "final stage copies from the context: %s" % l
        for src in parts[:-1]:
            assert os.path.exists(os.path.join(REPO, src)), "Dockerfile copies missing %s" % src
    # the build stage copies everything CMakeLists.txt builds from
    copied = [src.rstrip("/") for l in lines if l.upper().startswith("COPY ") and "--from=" not in l
              for src in [p for p in l.split()[1:] if not p.startswith("--")][:-1]]
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        used = set(re.findall(r"\b((?:node|shared|tests|tools|cmake)/[\w./-]+)", f.read()))
    missing = [u for u in used if not any(u == c or u.startswith(c + "/") for c in copied)]
    assert not missing, "CMakeLists.txt needs files the Dockerfile does not copy: %r" % missing
    # the final stage installs runtime libraries, not -dev packages or compilers
    installs = " ".join(l for l in final if "apt-get install" in l)
    assert installs and not re.search(r"-dev\b|build-essential|cmake|gcc", installs), installs
    for lib in ("libevent-2.1-7", "libssl3", "libjansson4"):
        assert lib in installs, lib
    assert "libhiredis" not in installs  # hiredis (with TLS) is linked statically
    ignore = open(os.path.join(REPO, ".dockerignore")).read().split()
    assert "build" in ignore and ".git" in ignore


# ---- Grafana dashboard ---------------------------------------------------------------

def test_grafana_dashboard():
    """The optional dashboard ConfigMap carries the JSON, labelled for Grafana's sidecar,
    and every metric its queries name is one the node exports."""
    assert not [o for o in helm_template(SECRETS) if o["metadata"]["name"].endswith("-dashboard")]
    objs = helm_template(SECRETS + ["--set", "grafanaDashboard.enabled=true"])
    cm = [o for o in by_kind(objs, "ConfigMap") if o["metadata"]["name"].endswith("-dashboard")]
    assert len(cm) == 1 and cm[0]["metadata"]["labels"]["grafana_dashboard"] == "1", cm
    dash = json.loads(cm[0]["data"]["syncrelay.json"])
    with open(os.path.join(REPO, "helm", "syncrelay", "dashboards", "syncrelay.json")) as f:
        assert dash == json.load(f)
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    names = {re.sub(r"_(bucket|sum|count)$", "", n)
             for n in re.findall(r"\b((?:syncrelay|process)_[a-z_]+)", exprs)}
    source = ""
    for top, _, files in os.walk(os.path.join(REPO, "node", "core")):
        for name in files:
            with open(os.path.join(top, name)) as f:
                source += f.read()
    missing = sorted(n for n in names if '"%s"' % n not in source and "%s " % n not in source)
    assert len(names) >= 10 and not missing, missing
