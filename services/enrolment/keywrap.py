"""Envelope encryption of the key store: every key it keeps is wrapped under a master key.

The key store (:mod:`services.enrolment.keystore`) holds each person's data key and the
blind-index secret only *wrapped*: sealed under a master key that never lives in the data
directory or in any database. A copy of the event database, of the key database, or of both,
therefore decrypts nothing without the master key as well.

:class:`KeyWrapper` is the plug-in point:

- :class:`LocalKeyWrapper` (the default) holds a 256-bit master key read from a file outside the
  data directory (``POLKU_MASTER_KEY_FILE``) and wraps with AES-256-GCM. The wrapped form is
  ``b"lw1" + nonce + ciphertext``; the associated data names what is wrapped (a person's id, or
  ``blind_index``), so a wrapped key copied onto another row does not unwrap.
- A KMS or HashiCorp Vault's transit engine plugs in by implementing the same two methods:
  ``wrap`` calls ``POST /v1/transit/encrypt/<key>`` (AWS KMS: ``Encrypt``) with the plaintext
  in base64 and the ``context`` as derivation context (KMS: ``EncryptionContext``), and stores
  the returned ciphertext (``vault:v1:...``) as bytes; ``unwrap`` calls ``decrypt`` with the
  same context. The master key then never leaves the KMS, and revoking Polku's token there
  locks every copy of the key store at once. :class:`TransitKeyWrapper` is that shape over
  an injected client; the composition root builds the local wrapper today.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.secret_files import create_once

MASTER_KEY_BYTES = 32
WRAPPED_PREFIX = b"lw1"
NONCE_BYTES = 12


class MasterKeyError(Exception):
    """The master key is missing, malformed, or not the one the key store was wrapped under."""


class KeyWrapper(Protocol):
    """Wraps and unwraps key material under a master key the caller never sees."""

    def wrap(self, key: bytes, context: bytes) -> bytes:
        """``key`` sealed under the master key, bound to ``context`` (what the key is for)."""
        ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The key again; raises :class:`MasterKeyError` if the master key or context differ."""
        ...


class LocalKeyWrapper:
    """AES-256-GCM under a master key held in this process (read from a file)."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != MASTER_KEY_BYTES:
            raise MasterKeyError(f"a master key is {MASTER_KEY_BYTES} bytes")
        self._aead = AESGCM(master_key)

    @classmethod
    def from_file(cls, path: Path, *, create: bool) -> LocalKeyWrapper:
        """The master key kept (hex) in ``path``; with ``create``, made once (0600) if missing."""
        if create and not path.exists():
            create_once(path, secrets.token_hex(MASTER_KEY_BYTES) + "\n")
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            raise MasterKeyError(
                f"the master key file {path} is missing; restore it (without it no personal "
                "field can be read), or point POLKU_MASTER_KEY_FILE at it"
            ) from None
        except OSError as exc:
            raise MasterKeyError(f"the master key file {path} cannot be read: {exc}") from None
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != MASTER_KEY_BYTES:
            raise MasterKeyError(
                f"the master key file {path} must hold {MASTER_KEY_BYTES} bytes as hex "
                f"({2 * MASTER_KEY_BYTES} characters)"
            )
        return cls(key)

    def wrap(self, key: bytes, context: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return WRAPPED_PREFIX + nonce + self._aead.encrypt(nonce, key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if not wrapped.startswith(WRAPPED_PREFIX):
            raise MasterKeyError("not a key wrapped by LocalKeyWrapper")
        body = wrapped[len(WRAPPED_PREFIX) :]
        try:
            return self._aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], context)
        except InvalidTag:
            raise MasterKeyError("the key does not unwrap under this master key") from None


class TransitClient(Protocol):
    """The two calls of a KMS or Vault transit engine that :class:`TransitKeyWrapper` needs."""

    def encrypt(self, key_name: str, plaintext: bytes, context: bytes) -> str: ...

    def decrypt(self, key_name: str, ciphertext: str, context: bytes) -> bytes: ...


class TransitKeyWrapper:
    """A :class:`KeyWrapper` whose master key stays in a KMS or Vault transit engine.

    ``client`` speaks to the service (an ``hvac`` or ``boto3`` adapter); ``key_name`` is the
    transit key (or KMS key id). Errors of the client propagate as :class:`MasterKeyError`.
    """

    def __init__(self, client: TransitClient, key_name: str) -> None:
        self.client = client
        self.key_name = key_name

    def wrap(self, key: bytes, context: bytes) -> bytes:
        return self.client.encrypt(self.key_name, key, context).encode()

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self.client.decrypt(self.key_name, wrapped.decode(), context)
        except Exception as exc:  # whatever the client raises: the key cannot be had
            raise MasterKeyError(f"the transit engine refused to unwrap: {exc}") from exc
