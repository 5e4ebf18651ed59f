"""The master key: wrapping, where its file may be, and how a wrong or missing one is reported."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner

from services.cli import main
from services.enrolment.keywrap import LocalKeyWrapper, MasterKeyError, TransitKeyWrapper
from shared.settings import Settings, SettingsError


def test_a_wrapped_key_unwraps_only_under_its_master_key_and_context() -> None:
    master = LocalKeyWrapper(secrets.token_bytes(32))
    key = secrets.token_bytes(32)
    wrapped = master.wrap(key, b"person-1")
    assert key not in wrapped
    assert master.unwrap(wrapped, b"person-1") == key
    with pytest.raises(MasterKeyError):
        master.unwrap(wrapped, b"person-2")  # copied onto another person's row
    with pytest.raises(MasterKeyError):
        LocalKeyWrapper(secrets.token_bytes(32)).unwrap(wrapped, b"person-1")


def test_the_master_key_file_is_made_once_0600_and_a_bad_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config" / "master.key"
    with pytest.raises(MasterKeyError, match="missing"):
        LocalKeyWrapper.from_file(path, create=False)
    first = LocalKeyWrapper.from_file(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    again = LocalKeyWrapper.from_file(path, create=True)  # not replaced
    assert again.unwrap(first.wrap(b"k" * 32, b"c"), b"c") == b"k" * 32
    path.write_text("not hex")
    with pytest.raises(MasterKeyError, match="64 characters"):
        LocalKeyWrapper.from_file(path, create=True)


class FakeTransit:
    """Stands in for a KMS or Vault transit engine: ciphertext is an opaque handle."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[bytes, bytes]] = {}

    def encrypt(self, key_name: str, plaintext: bytes, context: bytes) -> str:
        handle = f"vault:v1:{secrets.token_hex(8)}"
        self.kept[handle] = (plaintext, context)
        return handle

    def decrypt(self, key_name: str, ciphertext: str, context: bytes) -> bytes:
        plaintext, kept_context = self.kept[ciphertext]
        if kept_context != context:
            raise PermissionError("context differs")
        return plaintext


def test_a_transit_engine_plugs_in_behind_the_same_protocol() -> None:
    wrapper = TransitKeyWrapper(FakeTransit(), "polku-keys")
    wrapped = wrapper.wrap(b"key", b"ctx")
    assert wrapped.startswith(b"vault:v1:")
    assert wrapper.unwrap(wrapped, b"ctx") == b"key"
    with pytest.raises(MasterKeyError, match="refused"):
        wrapper.unwrap(wrapped, b"other")


def test_the_default_master_key_lives_in_the_user_config_not_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert settings.master_key_file == tmp_path / "cfg" / "polku" / "master.key"
    home = Settings.from_env({"HOME": str(tmp_path / "home")})
    assert home.master_key_file == tmp_path / "home" / ".config" / "polku" / "master.key"
    assert home.keystore_database_url() == f"sqlite:///{Path('var') / 'keys.sqlite'}"


def test_a_master_key_inside_the_data_dir_is_refused(tmp_path: Path) -> None:
    env = {
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "var" / "sub" / "master.key"),
    }
    with pytest.raises(SettingsError, match=r"POLKU_MASTER_KEY_FILE .* inside the data dir"):
        Settings.from_env(env)
    result = CliRunner().invoke(main, ["up", "--port", "0"], env=env)
    assert result.exit_code == 2 and "inside the data dir" in result.output
    assert not (tmp_path / "var" / "sub" / "master.key").exists()


def test_the_key_store_is_never_an_event_store_file(tmp_path: Path) -> None:
    env = {
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
        "POLKU_KEYSTORE_URL": f"sqlite:///{tmp_path / 'var' / 'enrolment.sqlite'}",
    }
    with pytest.raises(SettingsError, match="POLKU_KEYSTORE_URL"):
        Settings.from_env(env)


def test_a_key_store_without_its_master_key_is_one_clear_line(tmp_path: Path) -> None:
    env = {
        "POLKU_DATA_DIR": str(tmp_path / "var"),
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
    }
    csv = tmp_path / "people.csv"
    csv.write_text(
        "full_name,email,employee_number,organisation,department,unit\n"
        "Anna Aalto,anna@example.fi,E-1,TEM,D,U\n"
    )
    made = CliRunner().invoke(main, ["import", "people", str(csv)], env=env)
    assert made.exit_code == 0, made.output
    (tmp_path / "master.key").unlink()  # lost: it must be restored, never replaced
    lost = CliRunner().invoke(main, ["import", "people", str(csv)], env=env)
    assert lost.exit_code == 1, lost.output
    assert "master key file" in lost.output and "missing" in lost.output
    assert "Traceback" not in lost.output
    assert not (tmp_path / "master.key").exists()


def test_polku_settings_never_prints_the_key_store_credentials(tmp_path: Path) -> None:
    env = {
        "POLKU_KEYSTORE_URL": "postgresql://keys:hunter2@db:5432/keys",
        "POLKU_MASTER_KEY_FILE": str(tmp_path / "master.key"),
    }
    result = CliRunner().invoke(main, ["settings"], env=env)
    assert result.exit_code == 0
    assert "hunter2" not in result.output
    assert "POLKU_KEYSTORE_URL=(set)" in result.output
