#!/usr/bin/env python3
"""Writes the committed seed corpora (fuzz/seeds/<target>/) from the repo's own test
messages: the SIPp scenarios under benches/scenarios, the bundled dialplan, and messages
shaped like the b2bua test kit's phones. Run from anywhere; rewrites the seeds in place."""
import pathlib
import re

FUZZ = pathlib.Path(__file__).resolve().parent
REPO = FUZZ.parent
SEEDS = FUZZ / "seeds"


def put(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def crlf(text):
    lines = [l.strip() for l in text.strip("\n").split("\n")]
    return "\r\n".join(lines)


SDP = crlf("""v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6062 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv""") + "\r\n"


def with_body(head, body=""):
    return crlf(head) + f"\r\nContent-Length: {len(body.encode())}\r\n\r\n" + body


def sip_messages():
    msgs = {}
    via = "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1;rport"
    dialog = "From: \"Caller\" <sip:13903790000@127.0.0.1:5062>;tag=a1\nTo: <sip:12366@127.0.0.1:5060>"
    msgs["invite"] = with_body(f"""INVITE sip:12366@127.0.0.1:5060 SIP/2.0
{via}
Max-Forwards: 70
{dialog}
Call-ID: c1@fuzz
CSeq: 1 INVITE
Contact: <sip:13903790000@127.0.0.1:5062>
Content-Type: application/sdp""", SDP)
    msgs["invite_compact"] = with_body(f"""INVITE sip:12366@127.0.0.1 SIP/2.0
v: SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bK-2
f: <sip:037961234567@127.0.0.1>;tag=1
t: <sip:12366@127.0.0.1>
i: c2@fuzz
CSeq : 1 INVITE
Subject: a folded
  subject line
m: <sip:037961234567@127.0.0.1:5062;transport=tcp>
c: application/sdp""", SDP)
    for method, seq in [("ACK", 1), ("BYE", 2), ("CANCEL", 1), ("OPTIONS", 3)]:
        msgs[method.lower()] = with_body(f"""{method} sip:12366@127.0.0.1:5060 SIP/2.0
{via}
Max-Forwards: 70
{dialog};tag=s9
Call-ID: c1@fuzz
CSeq: {seq} {method}""")
    msgs["info_dtmf"] = with_body(f"""INFO sip:12366@127.0.0.1:5060 SIP/2.0
{via}
{dialog};tag=s9
Call-ID: c1@fuzz
CSeq: 4 INFO
Content-Type: application/dtmf-relay""", "Signal=5\r\nDuration=160\r\n")
    msgs["register_auth"] = with_body("""REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr
From: <sip:1003@127.0.0.1>;tag=1
To: <sip:1003@127.0.0.1>
Call-ID: r1
CSeq: 2 REGISTER
Contact: <sip:1003@127.0.0.1:5070>;expires=3600
Authorization: Digest username="1003", realm="hotline", nonce="5f.0.abc", uri="sip:127.0.0.1", response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, cnonce="c\"""")
    msgs["ok_sdp"] = with_body(f"""SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-s1
From: <sip:12366@127.0.0.1:5060>;tag=s1
To: <sip:1003@127.0.0.1:5070>;tag=agent
Call-ID: s1@hotline
CSeq: 1 INVITE
Contact: <sip:1003@127.0.0.1:5070>
Content-Type: application/sdp""", SDP)
    msgs["unauthorized"] = with_body("""SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-s2
From: <sip:12366@127.0.0.1>;tag=s2
To: <sip:0379@carrier>;tag=t
Call-ID: s2@hotline
CSeq: 1 INVITE
WWW-Authenticate: Digest realm="carrier", nonce="abc", algorithm=MD5, qop="auth,auth-int", opaque="xyz\"""")
    msgs["ringing_ipv6"] = with_body("""SIP/2.0 180 Ringing
Via: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK-s3;received=::1
From: <sip:12366@[::1]>;tag=s3
To: <sip:1003@[::1]:5070>;tag=agent
Call-ID: s3@hotline
CSeq: 1 INVITE""")
    return msgs


def sipp_messages():
    for xml in sorted((REPO / "benches" / "scenarios").glob("*.xml")):
        for i, m in enumerate(re.findall(r"<!\[CDATA\[(.*?)\]\]>", xml.read_text(), re.S)):
            text = crlf(m)
            if " SIP/2.0" in text:
                yield f"{xml.stem}-{i}", text + "\r\n\r\n"


def main():
    msgs = sip_messages()
    for name, text in msgs.items():
        put("sip_message", name, text)
        put("sip_framing", name, "\r\n\r\n" + text + text)
        put("call_machine", name, text)
    for name, text in sipp_messages():
        put("sip_message", name, text)
    put("sdp", "offer", SDP)
    put("sdp", "hold", SDP.replace("127.0.0.1\r\nt", "0.0.0.0\r\nt").replace("sendrecv", "sendonly"))
    put("sdp", "ipv6_two_streams", "v=0\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\n"
        "m=audio 4000 RTP/AVPF 0\r\na=inactive\r\n")
    put("rtp", "pcmu", bytes([0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4]) + bytes(range(160)))
    put("rtp", "csrc_ext_pad", bytes([0xB1, 0xE5, 0, 2, 0, 0, 1, 64, 9, 9, 9, 9, 1, 1, 1, 1,
                                      0xBE, 0xDE, 0, 1, 0x10, 0xFF, 0, 0, 5, 0x8A, 3, 0x20, 0, 0, 3]))
    put("telephone_event", "digit_five", bytes([5, 0x8A, 0x03, 0x20]) * 4)
    put("digest", "rfc2617", b'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b", '
        b'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", '
        b'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    henan = (REPO / "dialplans" / "henan.toml").read_text()
    put("dialplan", "henan", henan + "\0" + "13903790000\n037961234567\n+8613903790000\nanonymous\n")
    ivr = henan[henan.index("[ivr]"):]
    hours = henan[henan.index("[hours]"):henan.index("[ivr]")] if "[hours]" in henan else ""
    put("menu", "henan", hours + ivr + "\0" + "\x00\x60\x01\x70\x90\x9f\xc3\xd0\x0b")


main()
