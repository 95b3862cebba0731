"""N wallboards on the console's live feed, from one process (a wallboard is a browser on
another machine: N processes here would take the cores the switch is measured on).

    wallboards.py URL COOKIE N SECONDS OUT

Holds N server-sent-event streams of URL open for SECONDS and writes how many `board`
events each received to OUT (one count per line), rewritten as they arrive.
"""
import http.client
import sys
import threading
import urllib.parse

url, cookie, n, seconds, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
counts = [0] * n
lock = threading.Lock()


def save():
    with open(out, "w") as f:
        f.write("\n".join(map(str, counts)) + "\n")


def feed(i):
    u = urllib.parse.urlsplit(url)
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=seconds)
        conn.request("GET", f"{u.path}?{u.query}", headers={"Cookie": cookie})
        for line in conn.getresponse():
            if line.startswith(b"event: board"):
                with lock:
                    counts[i] += 1
                    save()
    except (OSError, http.client.HTTPException):
        pass


for i in range(n):
    threading.Thread(target=feed, args=(i,), daemon=True).start()
threading.Event().wait(seconds)
