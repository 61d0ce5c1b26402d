"""Credentials: read from the environment only, and kept out of every message and report.

Config files never hold secrets. This module names the environment variables that do, reads them
into `Secrets` (whose `SecretStr` fields mask themselves in every repr). Passwords inside URLs are
masked by `catalyst.redaction`, the one redaction function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import SecretStr

from catalyst.config.models import Secrets

APCA_API_KEY_ID = "APCA_API_KEY_ID"
APCA_API_SECRET_KEY = "APCA_API_SECRET_KEY"
CATALYST_DATABASE_URL = "CATALYST_DATABASE_URL"
CATALYST_SMTP_USERNAME = "CATALYST_SMTP_USERNAME"
CATALYST_SMTP_PASSWORD = "CATALYST_SMTP_PASSWORD"

# Environment variable -> field of `Secrets`, in the order they are reported.
SECRET_VARIABLES: Mapping[str, str] = {
    APCA_API_KEY_ID: "alpaca_key_id",
    APCA_API_SECRET_KEY: "alpaca_secret_key",
    CATALYST_DATABASE_URL: "database_url",
    CATALYST_SMTP_USERNAME: "smtp_username",
    CATALYST_SMTP_PASSWORD: "smtp_password",
}

# Fragments of a key name (lower-cased, separators removed) that mark it as a credential.
_SECRET_NAME_FRAGMENTS = (
    "apikey",
    "keyid",
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "privatekey",
    "username",
)
_SEPARATORS = re.compile(r"[^a-z0-9]")


def read_secrets(environ: Mapping[str, str]) -> Secrets:
    """Read every credential Catalyst uses from `environ`; empty or blank values count as unset."""
    values: dict[str, SecretStr] = {}
    for variable, field in SECRET_VARIABLES.items():
        raw = environ.get(variable)
        # Blank means unset, but a real value is kept verbatim: passwords may contain spaces.
        if raw is not None and raw.strip():
            values[field] = SecretStr(raw)
    return Secrets.model_validate(values)


def looks_like_secret_name(key: str) -> bool:
    """True when a config key's name says it holds a credential (api_key, password, ...)."""
    normalised = _SEPARATORS.sub("", key.lower())
    return any(fragment in normalised for fragment in _SECRET_NAME_FRAGMENTS)
