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
# Services with nothing to probe: the demo simulator's output is the data the dashboards show.
NO_HEALTHCHECK = {"simulator"}
# The LoRaWAN profile (deploy/chirpstack); ChirpStack's images ship no shell or HTTP client to probe with.
LORAWAN_SERVICES = {"chirpstack", "chirpstack-gateway-bridge", "chirpstack-postgres", "chirpstack-redis"}
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
    assert set(SERVICES) == {"mosquitto", "influxdb", "grafana", "gateway", "simulator"} | LORAWAN_SERVICES
    for name, svc in SERVICES.items():
        assert "image" in svc or "build" in svc, name
        if "build" in svc:
            assert (ROOT / svc["build"] / "Dockerfile").is_file() if isinstance(svc["build"], str) else True


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
            # user:password@host in a URL must take the password from .env
            for password in re.findall(r"://[^:/@\s]+:(.+?)@", text):
                assert VAR_REF.fullmatch(password), f"{name}: literal password in {text!r}"
    assert not [s for s in _strings(COMPOSE) if "change-me" in s]


def test_simulator_is_demo_only_and_everything_else_always_runs() -> None:
    assert SERVICES["simulator"]["profiles"] == ["demo"]
    assert {n for n, s in SERVICES.items() if "profiles" in s} == {"simulator"} | LORAWAN_SERVICES
    assert all(SERVICES[n]["profiles"] == ["lorawan"] for n in LORAWAN_SERVICES)


def _emberwatch_commands(service: dict) -> list[str]:
    """The `emberwatch <command>` words a service runs, via the image's entrypoint or a shell."""
    if service.get("entrypoint") == ["sh", "-c"]:
        return re.findall(r"\bemberwatch (\w+)", service["command"][0])
    return [service["command"][0]]


def test_services_use_the_emberwatch_cli_commands_that_exist() -> None:
    assert _emberwatch_commands(SERVICES["gateway"]) == ["gateway"]
    assert _emberwatch_commands(SERVICES["simulator"]) == ["simulate"]
    for name in ("gateway", "simulator"):
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
