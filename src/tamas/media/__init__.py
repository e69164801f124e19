"""Sans-IO media: RTP/RTCP packets, G.711, RFC 4733 DTMF, tone detection, jitter buffering.

Nothing here opens a socket, awaits or reads the clock: packets are bytes in and out, and time
is an argument (see STYLE.md). The runtime's RTP sockets and the bridge/mixer drive these.
"""
