#!/usr/bin/env python3
"""A PostgreSQL proxy on a Unix socket that can lose a connection right after a COMMIT's answer.

usage: cut_proxy.py LISTEN_DIR PORT UPSTREAM CUT_FILE
Relays every connection from LISTEN_DIR/.s.PGSQL.PORT to UPSTREAM (a socket directory, as in PGHOST, or
a host name) at PORT. While CUT_FILE
exists, the first server answer holding a CommandComplete "COMMIT" is passed on up to that message,
then both sides are closed (and CUT_FILE removed): the client saw its transaction commit, then lost
the connection before the statements after it answered (as when the network fails at that moment).
When CUT_FILE holds "drop", nothing of that answer is passed on (the client cannot know it committed).
"""
import os
import socket
import sys
import threading

COMMIT = b"C\x00\x00\x00\x0bCOMMIT\x00"


def relay(src, dst, cut_file):
    """Copies src to dst until either side closes; server answers may be cut after a COMMIT."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            at = data.find(COMMIT) if cut_file else -1
            if at >= 0 and os.path.exists(cut_file):
                whole = open(cut_file).read().strip() != "drop"
                os.unlink(cut_file)
                dst.sendall(data[: at + len(COMMIT)] if whole else data[:0])
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def main():
    listen_dir, port, upstream_dir, cut_file = sys.argv[1:5]
    path = os.path.join(listen_dir, ".s.PGSQL." + port)
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    while True:
        client, _ = server.accept()
        if upstream_dir.startswith("/"):
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(os.path.join(upstream_dir, ".s.PGSQL." + port))
        else:
            upstream = socket.create_connection((upstream_dir, int(port)))
        threading.Thread(target=relay, args=(client, upstream, None), daemon=True).start()
        threading.Thread(target=relay, args=(upstream, client, cut_file), daemon=True).start()


if __name__ == "__main__":
    main()
