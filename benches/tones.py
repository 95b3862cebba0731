#!/usr/bin/env python3
"""Tone media for the SIPp load test (benches/load.sh), standard library only.

    tones.py raw  OUT FREQ pcmu|pcma SECONDS   raw G.711 bytes, for SIPp's rtp_stream
    tones.py pcap OUT FREQ pcmu|pcma SECONDS   20 ms RTP packets in a pcap, for play_pcap_audio

The caller speaks 440 Hz, the agents answer 1000 Hz, so a recording's left and right
channels can be told apart (see wavcheck.py).
"""

import math
import struct
import sys

RATE = 8000
AMPLITUDE = 8000  # about -12 dBFS


def ulaw(sample: int) -> int:
    """ITU-T G.711 mu-law encoding of one 16-bit sample (the classic Sun g711.c)."""
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + (0x84 >> 2)
    ends = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
    segment = next((i for i, end in enumerate(ends) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def alaw(sample: int) -> int:
    """ITU-T G.711 A-law encoding of one 16-bit sample."""
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    ends = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
    segment = next((i for i, end in enumerate(ends) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1 if segment < 2 else value >> segment) & 0x0F
    return code ^ mask


def tone(freq: float, seconds: float, codec: str) -> bytes:
    encode = {"pcmu": ulaw, "pcma": alaw}[codec]
    n = int(seconds * RATE)
    return bytes(
        encode(int(AMPLITUDE * math.sin(2 * math.pi * freq * i / RATE))) for i in range(n)
    )


def pcap(payload: bytes, codec: str) -> bytes:
    """RTP (20 ms, 160 bytes) in UDP/IPv4/Ethernet frames, 20 ms apart."""
    pt = {"pcmu": 0, "pcma": 8}[codec]
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(len(payload) // 160):
        rtp = struct.pack(">BBHII", 0x80, pt, i & 0xFFFF, i * 160, 0x12345678)
        rtp += payload[i * 160 : (i + 1) * 160]
        udp = struct.pack(">HHHH", 4000, 4002, 8 + len(rtp), 0) + rtp
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        usec = i * 20_000
        out += struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        out += frame
    return bytes(out)


def main() -> None:
    if len(sys.argv) != 6 or sys.argv[1] not in ("raw", "pcap") or sys.argv[4] not in ("pcmu", "pcma"):
        sys.exit(__doc__)
    kind, out, freq, codec, seconds = sys.argv[1:]
    payload = tone(float(freq), float(seconds), codec)
    with open(out, "wb") as f:
        f.write(payload if kind == "raw" else pcap(payload, codec))


if __name__ == "__main__":
    main()
