"""OIDC settings, the role mapping and how a token with several roles acts (no issuer needed)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from services.cli import main
from shared.auth import Principal
from shared.oidc import OidcConfig, acting, parse_role_map, principal_of
from shared.settings import Settings, SettingsError

ISSUER = "https://login.example.test/realms/polku"


def env(**extra: str) -> dict[str, str]:
    return {"POLKU_OIDC_ISSUER": ISSUER, **extra}


def test_an_issuer_with_a_development_token_is_refused_in_one_line() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env(POLKU_SERVICE_TOKEN="eyJhbGciOiJIUzI1NiJ9.e30.x"))
    message = str(refused.value)
    assert "\n" not in message
    assert "POLKU_OIDC_ISSUER" in message and "POLKU_SERVICE_TOKEN" in message


def test_an_issuer_with_the_development_sign_in_is_refused_in_one_line() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env(POLKU_DEV_SIGNIN="1"))
    message = str(refused.value)
    assert "\n" not in message
    assert "POLKU_OIDC_ISSUER" in message and "POLKU_DEV_SIGNIN" in message


def test_the_cli_refuses_to_start_or_mint_with_a_mixed_configuration(tmp_path: object) -> None:
    runner = CliRunner()
    mixed = runner.invoke(
        main, ["token", "--role", "hr_admin", "--sub", "a"], env=env(POLKU_SERVICE_TOKEN="t")
    )
    assert mixed.exit_code != 0 and "POLKU_SERVICE_TOKEN" in mixed.output
    minted = runner.invoke(main, ["token", "--role", "hr_admin", "--sub", "a"], env=env())
    assert minted.exit_code != 0 and "Polku mints none" in minted.output


def test_oidc_variables_without_an_issuer_are_refused() -> None:
    with pytest.raises(SettingsError, match="POLKU_OIDC_AUDIENCE need"):
        Settings.from_env({"POLKU_OIDC_AUDIENCE": "api://polku"})


def test_the_settings_read_every_oidc_variable() -> None:
    settings = Settings.from_env(
        env(
            POLKU_OIDC_AUDIENCE="api://polku",
            POLKU_OIDC_ROLES_CLAIM="realm_access.roles",
            POLKU_OIDC_ROLE_MAP="hr_admin=HR.Admin,HR.Lead;participant=Staff",
            POLKU_OIDC_PERSON_CLAIM="employee_id",
            POLKU_OIDC_CLIENT_CLAIM="appid",
            POLKU_OIDC_ALGORITHMS="RS256",
            POLKU_OIDC_KEYS_MIN_INTERVAL="30",
            POLKU_OIDC_CLIENT_ID="polku-tracking",
            POLKU_OIDC_CLIENT_SECRET="s",
        )
    )
    oidc = settings.oidc
    assert oidc is not None
    assert oidc.audience_for("tracking") == "api://polku"
    assert oidc.role_map == {"hr_admin": ("HR.Admin", "HR.Lead"), "participant": ("Staff",)}
    assert (oidc.roles_claim, oidc.person_claim, oidc.client_claim) == (
        "realm_access.roles",
        "employee_id",
        "appid",
    )
    assert (oidc.algorithms, oidc.jwks_min_interval) == (("RS256",), 30.0)
    assert settings.oidc_client is not None and settings.oidc_client.client_id == "polku-tracking"
    assert settings.oidc_web_client is not None
    assert settings.oidc_web_client.client_id == "polku-web"


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("POLKU_OIDC_ISSUER", "login.example.test", "POLKU_OIDC_ISSUER"),
        ("POLKU_OIDC_ROLE_MAP", "root=admins", "POLKU_OIDC_ROLE_MAP"),
        ("POLKU_OIDC_ROLE_MAP", "coach=", "POLKU_OIDC_ROLE_MAP"),
        ("POLKU_OIDC_ALGORITHMS", "HS256", "POLKU_OIDC_ALGORITHMS"),
        ("POLKU_OIDC_KEYS_MIN_INTERVAL", "soon", "POLKU_OIDC_KEYS_MIN_INTERVAL"),
        ("POLKU_OIDC_CLIENT_SECRET", "s", "POLKU_OIDC_CLIENT_ID"),
        ("POLKU_OIDC_CLIENT_SCOPE", "s", "POLKU_OIDC_CLIENT_ID"),
    ],
)
def test_a_bad_oidc_setting_is_named(name: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env({**env(), name: value})


def test_an_unset_role_map_grants_roles_by_their_own_names() -> None:
    assert parse_role_map(None)["coach"] == ("coach",)
    # Set, it grants only what it lists: a group that happens to be called hr_admin is nothing.
    assert "hr_admin" not in parse_role_map("coach=Coaches")


def test_roles_come_from_a_dotted_claim_in_acting_order() -> None:
    config = OidcConfig(
        issuer=ISSUER,
        roles_claim="resource_access.polku.roles",
        role_map={"participant": ("staff",), "coach": ("coaches",), "auditor": ("audit",)},
    )
    claims = {
        "sub": "u1",
        "resource_access": {"polku": {"roles": ["staff", "coaches", "other"]}},
        "polku_person_id": "p-1",
        "azp": "polku-web",
    }
    principal = principal_of(claims, config)
    assert principal.roles == ("coach", "participant")
    assert principal.person_id == "p-1"
    assert principal_of({"sub": "u1"}, config).roles == ()


def test_a_request_acts_as_the_widest_admitted_role() -> None:
    both = Principal(sub="u1", role="coach", roles=("coach", "participant"), person_id="p-1")
    coach = acting(both, ("hr_admin", "coach", "participant"))
    assert (coach.role, coach.sub) == ("coach", "u1")
    participant = acting(both, ("participant",))
    assert (participant.role, participant.sub) == ("participant", "p-1")
    with pytest.raises(PermissionError, match="allowed: hr_admin"):
        acting(both, ("hr_admin",))
    nameless = Principal(sub="u2", role="participant", roles=("participant",))
    with pytest.raises(PermissionError, match="names no person"):
        acting(nameless, ("participant",))
    service = Principal(sub="uuid", role="service", roles=("service",), client_id="polku-tracking")
    assert acting(service, ("service",)).sub == "polku-tracking"


@pytest.mark.parametrize("args", [["up", "--demo", "--port", "0"], ["demo"]])
def test_the_demo_refuses_an_issuer(args: list[str]) -> None:
    result = CliRunner().invoke(main, args, env=env())
    assert result.exit_code != 0 and "development tokens" in result.output
