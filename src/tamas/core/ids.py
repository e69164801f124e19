"""Identifiers: short random tokens for Call-IDs, tags, branches and call records.

They must be unique and impossible to predict: a guessed tag and Call-ID let a stranger send
BYE or REFER into someone else's call. They are also made several times per SIP message, and
``os.urandom`` costs tens of microseconds per call on some virtual machines. So they are cut
from keyed BLAKE2b hashes of a counter, with a 32-byte key from the operating system's entropy:
unpredictable without the key (unlike a Mersenne Twister, whose state can be rebuilt from a
few hundred outputs).

Each hash gives 64 bytes, four slots of 16: identifier number ``n`` is the start of slot
``n % 4`` of the hash of ``n // 4``, so one hash (and one re-keying of BLAKE2b, which costs as
much as the hash) serves four identifiers. The slots never overlap and every counter value is
used once, so identifiers stay unique and independent; the last hash is kept with its block
number (one tuple, replaced whole), and two threads that race for a new block compute the
same hash.
"""

import hashlib
import itertools
import secrets

_KEY = secrets.token_bytes(32)
_counter = itertools.count()
#: Bytes per slot, slots per hash (BLAKE2b's largest digest, 64 bytes).
SLOT = 16
_SLOTS = 64 // SLOT
#: (block number, its hash in hex): the hash the last identifiers were cut from.
_last: tuple[int, str] = (-1, "")


def new_id(nbytes: int = 12) -> str:
    """A random identifier of ``nbytes`` bytes (at most 64) as lower-case hex."""
    global _last
    if nbytes > SLOT:  # a hash of its own (9 bytes hashed: never one of the blocks' inputs)
        n = next(_counter).to_bytes(8, "little")
        return hashlib.blake2b(n + b"L", key=_KEY, digest_size=nbytes).hexdigest()
    block, slot = divmod(next(_counter), _SLOTS)
    last = _last
    if last[0] == block:
        hexed = last[1]
    else:
        hexed = hashlib.blake2b(block.to_bytes(8, "little"), key=_KEY).hexdigest()
        _last = (block, hexed)
    start = slot * 2 * SLOT
    return hexed[start : start + 2 * nbytes]
