"""Identifiers: short random tokens for Call-IDs, tags, branches and call records.

They must be unique and impossible to predict: a guessed tag and Call-ID let a stranger send
BYE or REFER into someone else's call. They are also made several times per SIP message, and
``os.urandom`` costs tens of microseconds per call on some virtual machines. So each one is a
keyed BLAKE2b hash of a counter, with a 32-byte key from the operating system's entropy:
unpredictable without the key (unlike a Mersenne Twister, whose state can be rebuilt from a
few hundred outputs) and about a microsecond each.
"""

import hashlib
import itertools
import secrets

_KEY = secrets.token_bytes(32)
_counter = itertools.count()


def new_id(nbytes: int = 12) -> str:
    """A random identifier of ``nbytes`` bytes (at most 64) as lower-case hex."""
    n = next(_counter).to_bytes(8, "little")
    return hashlib.blake2b(n, key=_KEY, digest_size=nbytes).hexdigest()
