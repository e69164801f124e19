"""Per-source reception statistics for RTCP reports (RFC 3550 appendices A.1, A.3, A.8).

Theory of operation: :meth:`ReceiverStats.update` is called for each RTP packet of one SSRC with
its sequence number, RTP timestamp and arrival time (seconds, from the caller's clock).

* Sequence validation (A.1). A new source is on *probation* until ``min_sequential`` packets in
  sequence have arrived; only then are packets counted. Afterwards a packet at most
  ``MAX_DROPOUT`` ahead of the highest sequence number advances it (counting a wrap past 65535
  as a new *cycle*); one at most ``MAX_MISORDER`` behind is a duplicate or a late packet and is
  counted without moving it; anything else is a jump. A jump is dropped, unless the next packet
  follows it in sequence: then the source is taken to have restarted and the counts start over.
* Loss (A.3). ``expected`` is the extended highest sequence number minus the first one plus 1;
  ``lost`` is ``expected - received``, negative when duplicates outnumber losses. The fraction
  lost is computed over the interval since the previous report block.
* Jitter (A.8). For consecutive packets i-1, i, ``D = (R_i - R_{i-1}) - (S_i - S_{i-1})`` in
  timestamp units (R arrival times, S RTP timestamps) and ``J += (|D| - J) / 16``.

One deliberate difference from the C in A.1: the probation test ``seq == max_seq + 1`` is done
modulo 2**16, so a source whose first packets straddle 65535 -> 0 is accepted.
"""

from __future__ import annotations

from tamas.media.rtcp import ReportBlock, dlsr_from_seconds, ntp_middle32
from tamas.media.rtp import ts_diff

__all__ = ["MAX_DROPOUT", "MAX_MISORDER", "MIN_SEQUENTIAL", "ReceiverStats"]

MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2

_SEQ_MOD = 1 << 16


class ReceiverStats:
    """Reception statistics of one RTP source (one SSRC), fed packet by packet."""

    __slots__ = (
        "_bad_seq",
        "_base_seq",
        "_cycles",
        "_expected_prior",
        "_jitter",
        "_last_arrival",
        "_last_ts",
        "_lsr",
        "_lsr_arrival",
        "_max_seq",
        "_min_sequential",
        "_probation",
        "_received",
        "_received_prior",
        "_started",
        "clock_rate",
        "ssrc",
    )

    def __init__(self, ssrc: int, clock_rate: int, *, min_sequential: int = MIN_SEQUENTIAL) -> None:
        if clock_rate <= 0:
            raise ValueError(f"clock rate must be positive, not {clock_rate}")
        if min_sequential < 1:
            raise ValueError(f"min_sequential must be at least 1, not {min_sequential}")
        self.ssrc = ssrc
        self.clock_rate = clock_rate
        self._min_sequential = min_sequential
        self._started = False
        self._probation = 0
        self._base_seq = 0
        self._max_seq = 0
        self._bad_seq = _SEQ_MOD + 1  # so seq == bad_seq is false
        self._cycles = 0
        self._received = 0
        self._received_prior = 0
        self._expected_prior = 0
        self._jitter = 0.0
        self._last_arrival: float | None = None
        self._last_ts = 0
        self._lsr = 0
        self._lsr_arrival: float | None = None

    # A.1 -----------------------------------------------------------------------------------

    def _init_seq(self, seq: int) -> None:
        self._base_seq = seq
        self._max_seq = seq
        self._bad_seq = _SEQ_MOD + 1
        self._cycles = 0
        self._received = 0
        self._received_prior = 0
        self._expected_prior = 0
        self._last_arrival = None  # a restarted source has a new timestamp base

    def _update_seq(self, seq: int) -> bool:
        udelta = (seq - self._max_seq) & 0xFFFF
        if self._probation:
            if seq == (self._max_seq + 1) & 0xFFFF:
                self._probation -= 1
                self._max_seq = seq
                if self._probation == 0:
                    self._init_seq(seq)
                    self._received += 1
                    return True
            else:
                self._probation = self._min_sequential - 1
                self._max_seq = seq
            return False
        if udelta < MAX_DROPOUT:
            if seq < self._max_seq:  # in order, with permissible gap, wrapped
                self._cycles += _SEQ_MOD
            self._max_seq = seq
        elif udelta <= _SEQ_MOD - MAX_MISORDER:
            if seq != self._bad_seq:  # a very large jump
                self._bad_seq = (seq + 1) & 0xFFFF
                return False
            self._init_seq(seq)  # two sequential packets after a jump: the source restarted
        # else: a duplicate or a reordered packet
        self._received += 1
        return True

    def update(self, seq: int, rtp_ts: int, arrival: float) -> bool:
        """Account for one packet; return whether it is valid (not on probation, not a jump).

        ``arrival`` is in seconds on any monotonic scale; only differences matter.
        """
        if not self._started:
            self._started = True
            self._init_seq(seq)
            self._max_seq = (seq - 1) & 0xFFFF
            self._probation = self._min_sequential
        if not self._update_seq(seq):
            return False
        # A.8, with the transit difference computed from the two deltas so that a timestamp
        # wrap past 2**32 does not look like a jump.
        if self._last_arrival is not None:
            d = (arrival - self._last_arrival) * self.clock_rate - ts_diff(rtp_ts, self._last_ts)
            self._jitter += (abs(d) - self._jitter) / 16
        self._last_arrival = arrival
        self._last_ts = rtp_ts
        return True

    def sender_report(self, ntp_msw: int, ntp_lsw: int, arrival: float) -> None:
        """Note an SR from this source, to echo as LSR/DLSR in the next report block."""
        self._lsr = ntp_middle32(ntp_msw, ntp_lsw)
        self._lsr_arrival = arrival

    # A.3 -----------------------------------------------------------------------------------

    @property
    def received(self) -> int:
        """Packets counted since the source was validated (duplicates included)."""
        return self._received

    @property
    def extended_highest_seq(self) -> int:
        """The highest sequence number seen, with the count of wraps in the upper 16 bits."""
        return self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        if not self._started or self._probation:
            return 0
        return self.extended_highest_seq - self._base_seq + 1

    @property
    def lost(self) -> int:
        """Cumulative packets lost; negative when duplicates outnumber losses."""
        return self.expected - self._received

    @property
    def fraction_lost(self) -> int:
        """Fraction lost since the last report block, in 1/256 units (0 if none, 255 if all)."""
        expected_interval = self.expected - self._expected_prior
        lost_interval = expected_interval - (self._received - self._received_prior)
        if expected_interval <= 0 or lost_interval <= 0:
            return 0
        return min((lost_interval << 8) // expected_interval, 255)

    # A.8 -----------------------------------------------------------------------------------

    @property
    def jitter(self) -> float:
        """Interarrival jitter estimate in timestamp units."""
        return self._jitter

    @property
    def jitter_ms(self) -> float:
        return self._jitter * 1000 / self.clock_rate

    @property
    def last_arrival(self) -> float | None:
        """Arrival time of the last valid packet (None before the source is validated)."""
        return self._last_arrival

    def report_block(self, now: float) -> ReportBlock:
        """The report block about this source at ``now``; starts a new loss interval."""
        block = ReportBlock(
            ssrc=self.ssrc,
            fraction_lost=self.fraction_lost,
            packets_lost=max(-0x800000, min(self.lost, 0x7FFFFF)),
            highest_seq=self.extended_highest_seq & 0xFFFFFFFF,
            jitter=min(int(self._jitter), 0xFFFFFFFF),
            lsr=self._lsr,
            dlsr=0 if self._lsr_arrival is None else dlsr_from_seconds(now - self._lsr_arrival),
        )
        self._expected_prior = self.expected
        self._received_prior = self._received
        return block
