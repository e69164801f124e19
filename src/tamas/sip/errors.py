"""SIP errors. Each carries the status code a UAS answers with when it is raised.

The layer never knows about sockets or HTTP: the runtime turns ``status``/``reason`` into a
response (or drops the message when the error concerns a response, RFC 3261 section 18.1.2).

Every error class with its own ``status`` lives here, in a module that the optional mypyc
build leaves interpreted (see setup.py): compiled, a subclass's class-level ``status`` was lost.
"""

from tamas.core.errors import TamasError


class SipError(TamasError):
    """Root of SIP protocol errors; ``status`` is the response code a UAS should send."""

    status: int = 500
    default_reason: str = "Server Internal Error"

    def __init__(
        self, reason: str | None = None, *, extra_headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.reason = reason or self.default_reason
        self.extra_headers = extra_headers
        super().__init__(self.reason)


class ParseError(SipError):
    """The bytes are not a well-formed SIP message (RFC 3261 section 25)."""

    status = 400
    default_reason = "Bad Request"


class VersionNotSupported(SipError):
    status = 505
    default_reason = "Version Not Supported"


class UnsupportedUriScheme(SipError):
    status = 416
    default_reason = "Unsupported URI Scheme"


class BadExtension(SipError):
    status = 420
    default_reason = "Bad Extension"


class UnsupportedMediaType(SipError):
    status = 415
    default_reason = "Unsupported Media Type"


class NotAcceptable(SipError):
    status = 406
    default_reason = "Not Acceptable"


class NotAcceptableHere(SipError):
    """No offered stream is acceptable (RFC 3261 section 21.4.26), or an answer is unusable."""

    status = 488
    default_reason = "Not Acceptable Here"


class OutOfOrderRequest(SipError):
    """An in-dialog request with a CSeq lower than the last one (RFC 3261 section 12.2.2)."""

    status = 500
    default_reason = "CSeq Out of Order"


class NoSuchTransaction(SipError):
    status = 481
    default_reason = "Call/Transaction Does Not Exist"


class LoopDetected(SipError):
    status = 482
    default_reason = "Loop Detected"


class TooManyHops(SipError):
    status = 483
    default_reason = "Too Many Hops"


class RequestPending(SipError):
    status = 491
    default_reason = "Request Pending"
