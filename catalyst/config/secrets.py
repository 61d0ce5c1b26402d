"""Credentials: read from the environment only, and kept out of every message and report.

Config files never hold secrets. This module names the environment variables that do, reads them
into `Secrets` (whose `SecretStr` fields mask themselves in every repr), and redacts passwords from
URLs before a URL is shown to anyone.
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
_REDACTED = "***"
_AUTHORITY_END = re.compile(r"[/?#]")


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


def url_has_password(url: str) -> bool:
    """True when `url` carries a password in its user-info part."""
    return redact_url(url) != url


def redact_url(url: str) -> str:
    """Return `url` with any password replaced by `***`; everything else is kept.

    Unencoded `/`, `#`, `?` or `@` inside a password confuse URL parsers, so when the standard
    split is ambiguous this errs towards hiding too much rather than leaking a fragment.
    """
    scheme_end = url.find("://")
    prefix, rest = ("", url) if scheme_end < 0 else (url[: scheme_end + 3], url[scheme_end + 3 :])
    if "@" not in rest:
        return url
    # The authority ends at the first "/", "?" or "#" (RFC 3986); split by hand so odd input
    # cannot raise the way urlsplit does on a stray "[".
    netloc = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    after_netloc = rest[len(netloc) :]
    if "@" in netloc and "@" not in after_netloc:
        userinfo, _, host = netloc.rpartition("@")
        host_and_rest = host + after_netloc
    else:
        # Ambiguous: take everything up to the last "@" as user-info.
        userinfo, _, host_and_rest = rest.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url
    return f"{prefix}{user}:{_REDACTED}@{host_and_rest}"
