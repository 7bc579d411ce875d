"""docker-compose.yml, .env.example and the Dockerfile, checked without a Docker engine."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from emberwatch.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
# Services with nothing to probe: one-shot steps (their exit code is the check) and the demo
# simulator, whose output is the data the dashboards show.
ONE_SHOT = {"preflight", "influxdb-init", "lorawan-preflight"}
NO_HEALTHCHECK = {"simulator"} | ONE_SHOT
# The LoRaWAN profile (deploy/chirpstack); ChirpStack's images ship no shell or HTTP client to probe with.
LORAWAN_SERVICES = {"chirpstack", "chirpstack-gateway-bridge", "chirpstack-postgres", "chirpstack-redis",
                    "lorawan-preflight"}
NO_HEALTHCHECK |= {"chirpstack", "chirpstack-gateway-bridge"}
# ${NAME}, ${NAME:-default}, ${NAME:?error}; $$ is a literal dollar.
VAR_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY", re.IGNORECASE)


def env_example() -> tuple[dict[str, str], set[str]]:
    """(active KEY=value lines, keys only mentioned in commented-out lines)."""
    active, commented = {}, set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if m:
            if m.group(1):
                commented.add(m.group(2))
            else:
                active[m.group(2)] = m.group(3)
    return active, commented


def test_expected_services_each_with_an_image_or_build() -> None:
    assert set(SERVICES) == {"preflight", "mosquitto", "influxdb", "influxdb-init", "grafana", "gateway",
                             "simulator"} | LORAWAN_SERVICES
    for name, svc in SERVICES.items():
        assert "image" in svc or "build" in svc, name
        if "build" in svc:  # a context path, or a mapping with context (+ optional dockerfile)
            build = svc["build"]
            context = build if isinstance(build, str) else build.get("context")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            assert isinstance(context, str), f"{name}: build needs a context"
            assert (ROOT / context / dockerfile).is_file(), f"{name}: no {dockerfile} in {context}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_healthchecks_where_meaningful(name: str) -> None:
    check = SERVICES[name].get("healthcheck")
    if name in NO_HEALTHCHECK:
        assert check is None
        return
    assert check and check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) >= 2, name
    assert {"interval", "timeout", "retries"} <= set(check), name


def test_depends_on_targets_exist_and_wait_only_on_real_healthchecks() -> None:
    for name, svc in SERVICES.items():
        deps = svc.get("depends_on", {})
        for target, spec in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
            assert target in SERVICES, f"{name} depends on unknown {target}"
            assert SERVICES[target].get("profiles") in (None, svc.get("profiles")), \
                f"{name} depends on optional {target}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} has no healthcheck to wait for"
            if spec.get("condition") == "service_completed_successfully":
                assert target in ONE_SHOT and SERVICES[target]["restart"] == "no", f"{target} is not a one-shot step"


def test_nothing_starts_before_the_preflight_check() -> None:
    """Every always-on service waits, directly or through another, for preflight to succeed."""
    def waits_for_preflight(name: str) -> bool:
        deps = SERVICES[name].get("depends_on", {})
        return "preflight" in deps or any(waits_for_preflight(d) for d in deps)
    for name, svc in SERVICES.items():
        if name != "preflight" and "profiles" not in svc:
            assert waits_for_preflight(name), name


def test_volumes_are_declared_used_and_mounted_files_exist() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    used = set()
    for name, svc in SERVICES.items():
        for mount in svc.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert used == declared, f"declared but unused: {declared - used}"
    # Stateful services keep their data on named volumes, not in the container.
    for name, path in (("mosquitto", "/mosquitto/data"), ("influxdb", "/var/lib/influxdb"),
                       ("grafana", "/var/lib/grafana"), ("gateway", "/var/lib/emberwatch/spool")):
        assert any(m.split(":")[1] == path and not m.startswith(".") for m in SERVICES[name]["volumes"]), name


def test_every_referenced_variable_is_in_env_example() -> None:
    active, commented = env_example()
    for name, op, _ in VAR_REF.findall(COMPOSE_TEXT):
        if op.endswith("?"):  # required: the team must set it
            assert name in active, f"required ${{{name}}} missing from .env.example"
        else:  # optional with a default: at least documented
            assert name in active or name in commented, f"${{{name}}} not documented in .env.example"


def test_env_example_holds_only_placeholder_secrets() -> None:
    active, _ = env_example()
    secrets = {k: v for k, v in active.items() if SECRET_NAME.search(k)}
    assert secrets and all(v == "change-me" for v in secrets.values()), secrets
    assert ".env" in (ROOT / ".gitignore").read_text().split(), ".env must never be committed"


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [str(node)] if node is not None else []


def test_no_literal_secrets_in_compose() -> None:
    for name, svc in SERVICES.items():
        env = svc.get("environment", {})
        assert isinstance(env, dict), f"{name}: use a mapping for environment"
        for key, value in env.items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:[-?][^}]*)?\}", str(value)), f"{name}.{key} is literal"
                m = VAR_REF.fullmatch(str(value))
                assert m and not (m.group(2) == ":-" and m.group(3)), f"{name}.{key} has a default secret"
        for text in _strings(svc):
            # user:password@host in a URL must take the password from .env, directly or through a
            # container variable ($$NAME in a shell command) that does
            for password in re.findall(r"://[^:/@\s]+:(.+?)@", text):
                shell = re.fullmatch(r"\$\$([A-Z_]+)", password)
                if shell:
                    password = str(env.get(shell.group(1)))
                assert VAR_REF.fullmatch(password), f"{name}: literal password in {text!r}"
    # change-me appears only where a check refuses it (the demo's shell pattern *change-me*).
    assert not [s for s in _strings(COMPOSE) if s.replace("*change-me*", "").count("change-me")]


def test_simulator_is_demo_only_and_everything_else_always_runs() -> None:
    assert SERVICES["simulator"]["profiles"] == ["demo"]
    assert {n for n, s in SERVICES.items() if "profiles" in s} == {"simulator"} | LORAWAN_SERVICES
    assert all(SERVICES[n]["profiles"] == ["lorawan"] for n in LORAWAN_SERVICES)


def test_demo_password_is_needed_only_with_the_demo_profile() -> None:
    """Compose interpolates every service, profile or not: a required (:?) reference would stop a plain `up`."""
    for name, op, _ in VAR_REF.findall(COMPOSE_TEXT):
        if name == "MQTT_SIMULATOR_PASSWORD":
            assert op == ":-", "the demo password must not be required outside the demo profile"
    assert "MQTT_SIMULATOR_PASSWORD" not in SERVICES["preflight"]["environment"]["CHECK_NAMES"]
    # ...and the demo checks it itself before doing anything.
    assert re.search(r'case "\$\$DEMO_MQTT_PASSWORD" in ""\|\*change-me\*\)', SERVICES["simulator"]["command"][0])


def test_compose_file_follows_the_compose_specification() -> None:
    """The Compose Specification's JSON schema (as vendored by check-jsonschema) accepts the file."""
    import importlib.resources
    import json

    import jsonschema

    schema_path = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(schema_path.read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert errors == []
    # The schema must be able to fail: a misspelt key is refused.
    broken = {**COMPOSE, "services": {**SERVICES, "gateway": {**SERVICES["gateway"], "depend_on": ["x"]}}}
    assert any("depend_on" in e.message for e in validator.iter_errors(broken))


def _installed_version(*cmd: str) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    match = re.search(r"(\d+\.\d+\.\d+)", out.stdout + out.stderr)
    assert match, f"no version from {cmd}"
    return match.group(1)


def test_images_are_pinned_to_what_the_tests_run() -> None:
    images = {name: svc["image"] for name, svc in SERVICES.items() if "image" in svc and "build" not in svc}
    for name, image in images.items():  # no latest / major-only tags that drift between pulls
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.]+)?", image), f"{name}: pin an exact version, not {image}"
    for name in ("preflight", "mosquitto", "influxdb", "grafana"):
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", images[name]), f"{name}: pin major.minor.patch"
    repos = {image.split(":")[0] for image in images.values()}
    assert "grafana/grafana" in repos and "grafana/grafana-oss" not in repos  # -oss is deprecated
    # The broker config (password_file, acl_file) is tested on the suite's Mosquitto: same minor line.
    mosquitto = _installed_version("mosquitto", "-h")
    assert images["mosquitto"].split(":")[1].rsplit(".", 1)[0] == mosquitto.rsplit(".", 1)[0], mosquitto
    assert images["preflight"] == images["mosquitto"]  # one image to pull
    # Dashboards and the alert rule are tested with InfluxQL on the suite's InfluxDB 1.x.
    assert images["influxdb"].split(":")[1].split(".")[0] == _installed_version("influxd", "version").split(".")[0] == "1"


PREFLIGHT = ROOT / "deploy" / "preflight" / "check.sh"
GOOD = {"CHECK_NAMES": "A_PASSWORD B_PASSWORD", "A_PASSWORD": "x" * 16, "B_PASSWORD": "y" * 16,
        "ALERT_WEBHOOK_URL": "https://hooks.example.org/emberwatch"}


def _preflight(tmp_path: Path, env: dict[str, str], auth_files: tuple[str, ...] = ("passwd", "acl")):
    auth = tmp_path / "auth"
    auth.mkdir(exist_ok=True)
    for f in auth_files:
        (auth / f).write_text("x\n")
    return subprocess.run(["sh", str(PREFLIGHT)], env={"PATH": "/usr/bin:/bin", "AUTH_DIR": str(auth), **env},
                          capture_output=True, text=True, timeout=10, check=False)


def test_preflight_passes_a_complete_setup(tmp_path: Path) -> None:
    ok = _preflight(tmp_path, GOOD)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("env,files,message", [
    ({}, ("acl",), "no broker passwd file: run 'python3 deploy/mosquitto/credentials.py init"),
    ({"B_PASSWORD": "change-me"}, ("passwd", "acl"), "B_PASSWORD is still the change-me placeholder"),
    ({"A_PASSWORD": ""}, ("passwd", "acl"), "A_PASSWORD is empty"),
    ({"A_PASSWORD": "short"}, ("passwd", "acl"), "A_PASSWORD is shorter than 12"),
    ({"ALERT_WEBHOOK_URL": "https://alerts.example.invalid/emberwatch"}, ("passwd", "acl"),
     "GRAFANA_ALERT_WEBHOOK_URL is still the placeholder"),
])
def test_preflight_refuses_with_a_message_saying_what_to_do(tmp_path: Path, env, files, message) -> None:
    bad = _preflight(tmp_path, {**GOOD, **env}, files)
    assert bad.returncode == 1 and message in bad.stderr and "nothing was started" in bad.stderr


def test_preflight_checks_every_secret_compose_passes_it() -> None:
    env = SERVICES["preflight"]["environment"]
    checked = set(env["CHECK_NAMES"].split())
    secrets = {k for k in env if SECRET_NAME.search(k)}
    assert checked == secrets and "MQTT_GATEWAY_PASSWORD" in checked


def test_lorawan_preflight_checks_every_secret_the_profile_uses() -> None:
    env = SERVICES["lorawan-preflight"]["environment"]
    checked = set(env["CHECK_NAMES"].split())
    used = {m for name in LORAWAN_SERVICES - {"lorawan-preflight"}
            for m in re.findall(r"\$\{([A-Z0-9_]+)", str(SERVICES[name].get("environment", {})))
            if SECRET_NAME.search(m)}
    assert used and checked == used == {k for k in env if SECRET_NAME.search(k)}
    assert env["CHECK_WEBHOOK"] == "0"  # the always-on preflight checks the webhook
    assert set(env["CHECK_LOGINS"].split()) == {"chirpstack", "chirpstack-gateway-bridge"}
    # nothing in the profile starts before its check
    for name in LORAWAN_SERVICES - {"lorawan-preflight"}:
        assert SERVICES[name]["depends_on"]["lorawan-preflight"]["condition"] == "service_completed_successfully"


def test_lorawan_preflight_refuses_missing_logins_and_placeholder_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in SERVICES["lorawan-preflight"]["environment"].items() if not k.startswith(("MQTT_", "CHIRP"))}
    secrets = {k: "s3cret-" + k.lower() for k in env["CHECK_NAMES"].split()}
    auth = tmp_path / "auth"
    auth.mkdir()
    (auth / "acl").write_text("user gateway\n")
    (auth / "passwd").write_text("gateway:$7$x\n")

    def run(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", str(PREFLIGHT)], env={"PATH": "/usr/bin:/bin", "AUTH_DIR": str(auth), **env,
                                                           **secrets, **extra},
                              capture_output=True, text=True, timeout=10, check=False)
    no_logins = run({})
    assert no_logins.returncode == 1
    assert "no broker login chirpstack: run 'python3 deploy/mosquitto/credentials.py init --lorawan" in no_logins.stderr
    assert "webhook" not in no_logins.stderr.lower()  # not this step's business (no ALERT_WEBHOOK_URL given)
    (auth / "passwd").write_text("gateway:$7$x\nchirpstack:$7$y\nchirpstack-gateway-bridge:$7$z\n")
    assert run({}).returncode == 0
    # what an .env without LoRaWAN settings gives the profile: empty secrets, each named
    empty = run({k: "" for k in secrets})
    assert empty.returncode == 1 and all(f"{k} is empty" in empty.stderr for k in secrets)
    placeholder = run({"CHIRPSTACK_API_SECRET": "change-me"})
    assert placeholder.returncode == 1 and "CHIRPSTACK_API_SECRET is still the change-me placeholder" in placeholder.stderr


def interpolate(node: object, env: dict[str, str]) -> object:
    """Compose's interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, $$) of
    every string in the parsed file, as `docker compose` does whatever profiles are chosen."""
    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2) or "", m.group(3) or ""
        value = env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and unset:
            raise ValueError(f"required variable {name} is missing a value: {arg}")
        if op.endswith("-") and unset:
            return arg
        return value or ""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    return VAR_REF.sub(one, node).replace("$$", "$") if isinstance(node, str) else node


def _dotenv(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#") and "=" in line)


def test_an_env_without_lorawan_or_demo_settings_interpolates() -> None:
    """A site that never uses `--profile lorawan` or `--profile demo` leaves those settings out of .env."""
    active, _ = env_example()
    lorawan_only = {"MQTT_CHIRPSTACK_PASSWORD", "MQTT_GATEWAY_BRIDGE_PASSWORD", "CHIRPSTACK_POSTGRES_PASSWORD",
                    "CHIRPSTACK_API_SECRET", "MQTT_SIMULATOR_PASSWORD"}
    env = {k: ("x" * 16 if v == "change-me" else v) for k, v in active.items() if k not in lorawan_only}
    compose = interpolate(COMPOSE, env)
    assert isinstance(compose, dict)
    assert compose["services"]["chirpstack"]["environment"]["CHIRPSTACK_API_SECRET"] == ""
    # ...and leaving out an always-needed secret still stops compose, with its message.
    with pytest.raises(ValueError, match="set INFLUX_ADMIN_PASSWORD in .env"):
        interpolate(COMPOSE, {k: v for k, v in env.items() if k != "INFLUX_ADMIN_PASSWORD"})


def test_env_example_interpolates_and_every_profile_variable_is_optional() -> None:
    compose = interpolate(COMPOSE, _dotenv((ROOT / ".env.example").read_text()))
    assert isinstance(compose, dict) and set(compose["services"]) == set(SERVICES)
    assert compose["services"]["lorawan-preflight"]["environment"]["CHIRPSTACK_API_SECRET"] == "change-me"
    always = {var for svc in SERVICES.values() if "profiles" not in svc for var, _, _ in VAR_REF.findall(str(svc))}
    for name, svc in SERVICES.items():
        for var, op, _ in VAR_REF.findall(str(svc)) if "profiles" in svc else ():
            assert var in always or not op.endswith("?"), f"{name}: ${{{var}}} is required even without its profile"


def _emberwatch_commands(service: dict) -> list[str]:
    """The `emberwatch <command>` words a service runs, via the image's entrypoint or a shell."""
    if service.get("entrypoint") == ["sh", "-c"]:
        return re.findall(r"\bemberwatch (\w+)", service["command"][0])
    return [service["command"][0]]


def test_services_use_the_emberwatch_cli_commands_that_exist() -> None:
    assert _emberwatch_commands(SERVICES["gateway"]) == ["gateway"]
    assert _emberwatch_commands(SERVICES["influxdb-init"]) == ["influx-setup"]
    assert _emberwatch_commands(SERVICES["simulator"]) == ["simulate"]
    for name in ("gateway", "influxdb-init", "simulator"):
        for command in _emberwatch_commands(SERVICES[name]):
            assert command in COMMANDS, f"{name} runs `emberwatch {command}`, which is not registered"


def test_gateway_env_names_are_ones_the_gateway_reads() -> None:
    known = set(re.findall(r"EMBERWATCH_[A-Z0-9_]+", "".join(
        p.read_text() for p in (ROOT / "gateway").rglob("*.py"))))
    used = set(SERVICES["gateway"]["environment"])
    assert used <= known, f"the gateway does not read {used - known}"


def test_dockerfile_copies_every_package_and_installs_without_extras(tmp_path: Path) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    packages = {p for p in wanted if (ROOT / p / "__init__.py").is_file()}
    assert packages <= copied, f"Dockerfile does not COPY {packages - copied}"
    assert re.search(r"^RUN pip install \.(\s|$)", dockerfile, re.MULTILINE), "install the base package, no extras"
    assert re.search(r'^ENTRYPOINT \["emberwatch"\]', dockerfile, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and ".git" in ignored
    # Build the wheel from exactly the files the Dockerfile copies, with build isolation as
    # `pip install .` in the image does (pip fetches the build backend from PyPI, cached after once).
    for item in copied:
        src = ROOT / item
        if src.is_dir():
            subprocess.run(["cp", "-r", str(src), str(tmp_path / item)], check=True)
        elif src.is_file():
            (tmp_path / item).write_bytes(src.read_bytes())
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                             "-w", str(tmp_path / "dist"), str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("emberwatch-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    modules = [COMMANDS[c] for s in ("gateway", "simulator") for c in _emberwatch_commands(SERVICES[s])]
    for module in modules + ["edge_node.core.schema"]:
        assert module.replace(".", "/") + ".py" in names, f"{module} missing from the image's wheel"
