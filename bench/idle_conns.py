#!/usr/bin/env python3
"""Open COUNT keep-alive client connections, send one real request on each,
then hold them idle so bench/run.sh can read the server's RSS.

Usage: idle_conns.py HOST PORT PATH BODY_FILE AUTH COUNT

Prints "ready OPENED OK" once every connection has had its response (OK = how
many got a 200), then waits for a line on stdin (or EOF). It then prints
"alive N" (connections the server has not closed meanwhile) and exits, which
closes them all. Only the standard library; raises RLIMIT_NOFILE itself.
"""
import resource
import socket
import sys


def read_response(sock):
    """Read one HTTP/1.1 response; return its status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before headers")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip().lower()
    if b"content-length" in headers:
        need = int(headers[b"content-length"])
        while len(rest) < need:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            rest += chunk
    elif b"chunked" in headers.get(b"transfer-encoding", b""):
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            rest += chunk
    return status


def main():
    host, port, path, body_file, auth, count = sys.argv[1:7]
    port, count = int(port), int(count)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
    with open(body_file, "rb") as f:
        body = f.read().strip()
    req = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    socks, ok = [], 0
    for _ in range(count):
        s = socket.create_connection((host, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(req)
        try:
            if read_response(s) == 200:
                ok += 1
        except (ConnectionError, OSError):
            pass
        socks.append(s)
    print(f"ready {len(socks)} {ok}", flush=True)
    sys.stdin.readline()

    alive = 0
    for s in socks:
        try:
            s.setblocking(False)
            if s.recv(1, socket.MSG_PEEK) == b"":
                continue  # orderly close by the server
            alive += 1  # unexpected data, but still open
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    print(f"alive {alive}", flush=True)


if __name__ == "__main__":
    main()
