# Three phases of N echoed messages on one connection; between phases it waits for a gate file
# (<gate>0, <gate>1) so the test can change the executor's health at a known point of the stream.
import os, socket, sys, time
host, port, n, gate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
c = socket.create_connection((host, port), timeout=20)
for phase in range(3):
    for i in range(n):
        size = 1 + (i * 37) % 1000
        c.sendall(bytes([i % 256]) * size)
        got = 0
        while got < size:
            d = c.recv(65536)
            if not d:
                sys.exit("connection closed by the server in phase %d" % phase)
            got += len(d)
    print("phase", phase, flush=True)
    if phase < 2:
        start = time.time()
        while not os.path.exists(gate + str(phase)):
            if time.time() - start > 30:
                sys.exit("gate %d never opened" % phase)
            time.sleep(0.01)
c.close()
print("done", flush=True)
