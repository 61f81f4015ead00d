# One long-lived connection: N messages of varying size (1..3000 bytes, some span segments), each
# echoed back in full before the next; optional pause between messages (seconds).
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
c = socket.create_connection((host, port), timeout=20)
for i in range(n):
    size = 1 + (i * 37) % 3000
    c.sendall(bytes([i % 256]) * size)
    got = 0
    while got < size:
        d = c.recv(65536)
        if not d:
            sys.exit("connection closed by the server after %d messages" % i)
        got += len(d)
    if pause:
        time.sleep(pause)
c.close()
print("done", n, flush=True)
