"""The one way Catalyst hides credentials inside URLs and free text before anyone sees them.

Used by `config check`, error messages, the store's log and report lines and the log processor.
A URL can carry a password in two places: the user-info (`postgresql://user:pw@db/x`) and the
query string (`?password=pw`, `?sslpassword=pw`, `?token=...`). Both are masked with `***`;
everything else is kept so a person can still tell which database or host is meant.
"""

from __future__ import annotations

import re
from typing import Protocol

REDACTED = "***"
UNPARSEABLE = "<unparseable url>"  # shown instead of text that is not scheme://...

# A query argument whose name (lower-cased, separators removed) contains one of these is masked.
_SECRET_QUERY_FRAGMENTS = ("password", "passwd", "pwd", "secret", "token", "key", "credential")
_SEPARATORS = re.compile(r"[^a-z0-9]")
_AUTHORITY_END = re.compile(r"[/?#]")
# A URL inside free text: scheme://... up to whitespace or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


class RendersUrl(Protocol):
    """A URL object that can render itself in full (SQLAlchemy's `URL`)."""

    def render_as_string(self, hide_password: bool = ...) -> str: ...


def redact_url(url: str | RendersUrl) -> str:
    """`url` with any password (user-info or query argument) replaced by `***`.

    Unencoded `/`, `#`, `?` or `@` inside a password confuse URL parsers, so when the standard
    split is ambiguous this errs towards hiding too much rather than leaking a fragment, and text
    that is no `scheme://...` URL at all (a libpq "key=value" string, garbage) is not echoed.
    Never raises, whatever the input.
    """
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    if "://" not in text:
        return UNPARSEABLE
    return _redact_query(_redact_userinfo(text))


def url_has_password(url: str) -> bool:
    """True when `url` carries a password, in its user-info or its query string."""
    return "://" in url and redact_url(url) != url


def redact_urls_in(text: str) -> str:
    """`text` with every URL in it redacted (for exception messages and log values)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def _redact_userinfo(url: str) -> str:
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
    return f"{prefix}{user}:{REDACTED}@{host_and_rest}"


def _redact_query(url: str) -> str:
    base, question, query = url.partition("?")
    if not question:
        return url
    query, hash_mark, fragment = query.partition("#")
    arguments = []
    masked = False
    for argument in re.split(r"([&;])", query):
        name, equals, _value = argument.partition("=")
        if equals and _is_secret_name(name):
            argument = f"{name}={REDACTED}"
            masked = True
        arguments.append(argument)
    if masked and hash_mark:
        fragment = REDACTED  # an unencoded "#" may have been part of the password
    return f"{base}?{''.join(arguments)}{hash_mark}{fragment}"


def _is_secret_name(name: str) -> bool:
    normalised = _SEPARATORS.sub("", name.lower())
    return any(fragment in normalised for fragment in _SECRET_QUERY_FRAGMENTS)
