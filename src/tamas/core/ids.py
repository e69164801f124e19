"""Identifiers: short random tokens for Call-IDs, tags, branches and call records."""

import secrets


def new_id(nbytes: int = 12) -> str:
    """A URL- and SIP-token-safe random identifier (hex)."""
    return secrets.token_hex(nbytes)
