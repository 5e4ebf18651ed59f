"""docker-compose.yml and the Dockerfile agree with the CLI and with shared/settings.py.

No Docker engine is needed: the compose file is parsed as YAML, each Polku container's command
is parsed by the real click CLI, and its environment by :meth:`Settings.from_env`.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from services.cli import main
from shared.settings import VARIABLES, Settings, SettingsError

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"

# The processes of the distributed deployment (DESIGN.md, "Running it").
EXPECTED_POLKU_SERVICES = {
    "enrolment",
    "assessment",
    "enrolment-relay",
    "assessment-relay",
    "projector",
    "tracking",
}
HTTP_COMMANDS = {"up", "serve"}

# ${VAR}, ${VAR:?message}, ${VAR?message}, ${VAR:-default}, ${VAR-default}, $VAR
_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[?-])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
DUMMY = "dummy-value-for-tests"


# Helpers -------------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), (
        f"{COMPOSE_FILE.name} has no services mapping"
    )
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    return load_compose()["services"]  # type: ignore[no-any-return]


def is_polku(service: dict[str, Any]) -> bool:
    """A container built from the repo's Dockerfile (or tagged polku): it runs ``polku``."""
    image = str(service.get("image", ""))
    return "build" in service or image.split(":")[0].rsplit("/", 1)[-1] == "polku"


def polku_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose_services().items() if is_polku(svc)}


def interpolate(value: str) -> str:
    """Compose-style interpolation, with every unset variable given a dummy value."""

    def replace(match: re.Match[str]) -> str:
        if match.group("op") in (":-", "-"):
            return match.group("arg")
        return DUMMY

    return _INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        pairs = [item.split("=", 1) if "=" in item else [item, ""] for item in raw]
        raw = dict(pairs)
    return {str(k): interpolate("" if v is None else str(v)) for k, v in raw.items()}


def command_args(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return dockerfile_instruction("CMD")
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def dockerfile_instruction(name: str) -> list[str]:
    """The exec-form (JSON array) value of the last ``name`` instruction in the Dockerfile."""
    found: list[str] | None = None
    for line in DOCKERFILE.read_text().splitlines():
        match = re.match(rf"\s*{name}\s+(.*)$", line, re.IGNORECASE)
        if match:
            value = json.loads(match.group(1))
            assert isinstance(value, list), f"{name} must use the exec (JSON array) form"
            found = [str(part) for part in value]
    assert found is not None, f"the Dockerfile has no {name}"
    return found


def parse_command(args: list[str]) -> click.Context:
    """Parses ``polku <args>`` with the real CLI, without running it.

    Raises :class:`click.ClickException` (usage errors, bad options, a bad SERVICE choice).
    """
    if not args:
        raise click.UsageError("empty command")
    name, rest = args[0], args[1:]
    root = click.Context(main, info_name="polku")
    cmd = main.get_command(root, name)
    if cmd is None:
        raise click.UsageError(f"no such polku command: {name!r}")
    return cmd.make_context(name, list(rest), parent=root)


def command_problem(args: list[str]) -> str | None:
    try:
        parse_command(args)
    except click.ClickException as exc:
        return exc.format_message()
    return None


def healthcheck_disabled(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("disable")) or check.get("test") in (["NONE"], "NONE")


def has_healthcheck(service: dict[str, Any]) -> bool:
    if healthcheck_disabled(service):
        return False
    if (service.get("healthcheck") or {}).get("test"):
        return True
    return is_polku(service) and "HEALTHCHECK" in DOCKERFILE.read_text()


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: {"condition": "service_started"} for name in raw}
    return {name: (spec or {}) for name, spec in raw.items()}


POLKU_SERVICE_NAMES = sorted(polku_services()) if COMPOSE_FILE.exists() else []


# The checker itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["serv", "enrolment"],
        ["serve", "enrolmnet"],
        ["serve", "tracking", "--no-projektor"],
        ["serve", "assessment", "--port", "eighty"],
        ["relay", "tracking"],
        ["relay"],
        ["project", "extra"],
        [],
    ],
)
def test_the_checker_rejects_bad_commands(args: list[str]) -> None:
    assert command_problem(args) is not None


def test_the_checker_accepts_good_commands() -> None:
    assert command_problem(["serve", "tracking", "--no-projector", "--port", "8000"]) is None
    assert command_problem(["relay", "enrolment", "--once"]) is None


def test_interpolation_gets_dummies_and_defaults() -> None:
    assert interpolate("${POLKU_JWT_SECRET:?set a secret}") == DUMMY
    assert interpolate("${X}/${Y:-fallback}/$Z/$$HOME") == f"{DUMMY}/fallback/{DUMMY}/$HOME"


# The Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_entrypoint_is_the_polku_console_script() -> None:
    assert dockerfile_instruction("ENTRYPOINT") == ["polku"]
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.get("polku") == "services.cli:main"


def test_dockerfile_default_command_is_a_polku_command() -> None:
    args = dockerfile_instruction("CMD")
    assert command_problem(args) is None, command_problem(args)


def test_dockerfile_healthcheck_hits_the_default_port() -> None:
    text = DOCKERFILE.read_text()
    match = re.search(r"HEALTHCHECK.*?https?://[^/:]+:(\d+)/healthz", text, re.DOTALL)
    assert match, "the Dockerfile's HEALTHCHECK should ask /healthz"
    ctx = parse_command(dockerfile_instruction("CMD"))
    assert ctx.params["port"] == int(match.group(1))
    assert re.search(rf"^EXPOSE\s+{match.group(1)}\b", text, re.MULTILINE)


def test_dockerfile_sets_only_documented_variables() -> None:
    names = set(re.findall(r"\b(POLKU_[A-Z0-9_]+)=", DOCKERFILE.read_text()))
    assert names <= set(VARIABLES), sorted(names - set(VARIABLES))


# docker-compose.yml --------------------------------------------------------------------------


def test_compose_runs_every_process_of_the_deployment() -> None:
    services = compose_services()
    missing = EXPECTED_POLKU_SERVICES - set(polku_services())
    assert not missing, f"no Polku container for {sorted(missing)}"
    assert not {"postgres", "kafka"} - set(services), sorted(services)


@pytest.mark.parametrize("name", POLKU_SERVICE_NAMES)
def test_compose_command_is_a_real_polku_command(name: str) -> None:
    args = command_args(polku_services()[name])
    problem = command_problem(args)
    assert problem is None, f"{name}: `polku {shlex.join(args)}` is rejected: {problem}"


@pytest.mark.parametrize("name", POLKU_SERVICE_NAMES)
def test_compose_environment_is_documented_and_accepted(name: str) -> None:
    service = polku_services()[name]
    env = environment(service)
    undocumented = sorted(k for k in env if k.startswith("POLKU_") and k not in VARIABLES)
    assert not undocumented, f"{name} sets variables not in shared.settings.VARIABLES"
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        pytest.fail(f"{name}: Settings.from_env rejects its environment: {exc}")

    ctx = parse_command(command_args(service))
    command = ctx.command.name
    # What the commands themselves demand of the settings (services/cli.py).
    if command == "relay":
        assert settings.kafka_bootstrap_servers, f"{name}: a relay needs Kafka"
    if command == "project" or (command == "serve" and ctx.params["service"] == "tracking"):
        assert settings.feed != "embedded", f"{name}: a lone tracking process needs a remote feed"
    if command in {"serve", "relay", "project"}:
        # Separate containers share nothing but the database: SQLite files would not do.
        assert settings.database_url and settings.database_url.startswith("postgres"), name


@pytest.mark.parametrize("name", POLKU_SERVICE_NAMES)
def test_compose_healthcheck_fits_the_process(name: str) -> None:
    service = polku_services()[name]
    ctx = parse_command(command_args(service))
    if ctx.command.name in HTTP_COMMANDS:
        assert not healthcheck_disabled(service), f"{name} serves HTTP: keep its healthcheck"
        healthz_port = re.search(r"https?://[^/:]+:(\d+)/healthz", DOCKERFILE.read_text())
        assert healthz_port and ctx.params["port"] == int(healthz_port.group(1)), (
            f"{name} must listen on the port the image's HEALTHCHECK asks"
        )
        container_ports = {str(p).rsplit(":", 1)[-1] for p in service.get("ports", [])}
        assert not container_ports or container_ports == {str(ctx.params["port"])}, name
    else:
        # The image's /healthz check would mark a relay or projector unhealthy forever.
        assert healthcheck_disabled(service), f"{name} serves no HTTP: disable the healthcheck"


def test_compose_dependencies_exist_and_can_become_healthy() -> None:
    services = compose_services()
    for name, service in services.items():
        for target, spec in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target!r}"
            assert target != name, f"{name} depends on itself"
            if spec.get("condition") == "service_healthy":
                assert has_healthcheck(services[target]), (
                    f"{name} waits for {target} to be healthy, but {target} has no healthcheck"
                )


def test_compose_polku_services_wait_for_their_infrastructure() -> None:
    for name, service in polku_services().items():
        deps = depends_on(service)
        for infra in ("postgres", "kafka"):
            assert deps.get(infra, {}).get("condition") == "service_healthy", (
                f"{name} should wait for {infra} to be healthy"
            )
