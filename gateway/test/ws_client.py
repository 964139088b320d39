#!/usr/bin/env python3
"""A minimal WebSocket client for gateway/test/http.sh (standard library only; curl 7.88 has no ws:).

Usage: ws_client.py URL [HEADER ...]  -- prints each text message on its own line, then "close <code>"
when the server closes; "status <code>" when the handshake is refused. Ends on a server close or EOF.
"""
import base64, os, socket, struct, sys, urllib.parse


def read_exact(sock, n):
    """Reads exactly n bytes (fewer at EOF)."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def send_frame(sock, opcode, payload=b""):
    """Sends one masked frame, as clients must."""
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=60)
    key = base64.b64encode(os.urandom(16)).decode()
    target = url.path + ("?" + url.query if url.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {url.netloc}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"] + sys.argv[2:]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            print("status eof", flush=True)
            return
        head += chunk
    status = head.split(b" ", 2)[1].decode()
    if status != "101":
        print(f"status {status}", flush=True)
        return
    while True:
        b = read_exact(sock, 2)
        if len(b) < 2:
            print("eof", flush=True)
            return
        opcode, n = b[0] & 0x0F, b[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", read_exact(sock, 2))[0]
        elif n == 127:
            n = struct.unpack("!Q", read_exact(sock, 8))[0]
        payload = read_exact(sock, n)
        if opcode == 1:
            print(payload.decode(), flush=True)
        elif opcode == 9:
            send_frame(sock, 10, payload)  # pong
            print("ping", flush=True)
        elif opcode == 8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            send_frame(sock, 8, payload[:2])
            print(f"close {code}", flush=True)
            return


if __name__ == "__main__":
    main()
