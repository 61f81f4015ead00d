# Runs inside the htk/python container (python3 -u line_server.py PORT): accepts one connection and
# answers every line with the SHA-256 (hex + "\n") of the line without its newline; at the end of
# the stream it reports what it served. Not instrumented: only the kernel probe could see it.
import hashlib
import socket
import sys

port = int(sys.argv[1])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", port))
srv.listen(1)
print("listening on", port, flush=True)
conn, peer = srv.accept()
stream = conn.makefile("rb")
lines = bytes_in = bytes_out = 0
while True:
    line = stream.readline()
    if not line:
        break
    if not line.endswith(b"\n"):
        print("partial-line bytes=%d after lines=%d" % (len(line), lines), flush=True)
        sys.exit(3)
    reply = hashlib.sha256(line[:-1]).hexdigest().encode("ascii") + b"\n"
    conn.sendall(reply)
    lines += 1
    bytes_in += len(line)
    bytes_out += len(reply)
print("served lines=%d in=%d out=%d peer=%s" % (lines, bytes_in, bytes_out, peer[0]), flush=True)
