"""New TCP connections per second, for `npm run bench -- sg` (bench/support/tcp-rate.ts runs it).

  server PORT WORKERS            WORKERS processes, each with its own SO_REUSEPORT listener and a
                                 blocking accept loop; prints "ready" once all listen.
  client HOST PORT DELAY SECONDS CLIENTS INFLIGHT [SERVER_PID...]
                                 CLIENTS processes, each keeping INFLIGHT non-blocking connects
                                 open (epoll); a connection counts once its handshake completes,
                                 within a window of SECONDS that opens DELAY seconds after the
                                 start (so that every process runs and has warmed up by then). Prints one JSON line: connections per second in the window,
                                 the count per client, and the machine's CPU use (busy and
                                 softirq share over the window, from /proc/stat).

Both ends close with SO_LINGER 0 (RST): no TIME_WAIT, so the ephemeral ports never run out, and
every connection is four packets (SYN, SYN-ACK, ACK, then one RST from whichever end closes first)
on the measured path. A connection counts once its handshake completed: connected, or connected
and then reset by the server before the client looked (ECONNRESET), never refused.
"""
import errno
import json
import os
import select
import socket
import struct
import sys
import time

LINGER0 = struct.pack("ii", 1, 0)


def server(port: int, workers: int) -> None:
    ready_r, ready_w = os.pipe()
    pids = []
    for _ in range(workers):
        pid = os.fork()
        if pid:
            pids.append(pid)
        else:
            os.close(ready_r)
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)  # inherited by accepted sockets
            s.bind(("0.0.0.0", port))
            s.listen(4096)
            os.write(ready_w, b"r")
            os.close(ready_w)
            accept, close = s._accept, os.close
            while True:
                try:
                    close(accept()[0])
                except OSError:
                    pass
    os.close(ready_w)
    got = 0
    while got < workers:
        b = os.read(ready_r, workers)
        if not b:
            sys.exit("a server worker died")
        got += len(b)
    print("ready", *pids, flush=True)
    os.wait()  # runs until killed (the bench kills the namespace's processes)


def client_worker(host: str, port: int, start: float, until: float, inflight: int) -> int:
    ep = select.epoll()
    addr = (host, port)
    socks = {}
    counted = 0
    AF, ST, SOL, LING, ERR = socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK, socket.SOL_SOCKET, socket.SO_LINGER, socket.SO_ERROR
    OUT, BAD = select.EPOLLOUT, select.EPOLLERR | select.EPOLLHUP
    mono = time.monotonic

    def one() -> None:
        s = socket.socket(AF, ST)
        s.setsockopt(SOL, LING, LINGER0)
        e = s.connect_ex(addr)
        if e not in (0, errno.EINPROGRESS):
            s.close()
            return
        fd = s.fileno()
        socks[fd] = s
        ep.register(fd, OUT)

    for _ in range(inflight):
        one()
    now = mono()
    while now < until:
        events = ep.poll(0.2)
        now = mono()
        for fd, ev in events:
            s = socks.pop(fd)
            # Established, even if the server's reset came first (ECONNRESET; a refusal is ECONNREFUSED).
            if (not ev & BAD or s.getsockopt(SOL, ERR) == errno.ECONNRESET) and start <= now <= until:
                counted += 1
            s.close()  # RST; also leaves the epoll set
            one()
        while len(socks) < inflight:  # connects refused at once (ports, backlog) are retried here
            one()
    return counted


def cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]


def ksoftirqd():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().startswith("ksoftirqd/"):
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def cpu_of(pids):
    """CPU seconds the processes ran (the scheduler's clock, softirq work done on their time included)."""
    t = 0.0
    for pid in pids:
        try:
            t += time.clock_gettime(((~pid) << 3) | 2)  # CPUCLOCK_SCHED of the whole process
        except OSError:
            pass
    return t


def client(host: str, port: int, start: float, seconds: float, clients: int, inflight: int, server_pids) -> None:
    until = start + seconds
    pipes, workers = [], []
    for _ in range(clients):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            n = client_worker(host, port, start, until, inflight)
            os.write(w, str(n).encode())
            os._exit(0)
        os.close(w)
        pipes.append(r)
        workers.append(pid)
    ours = workers + server_pids + ksoftirqd()
    time.sleep(max(0.0, start - time.monotonic()))
    t0, c0, w0 = cpu_times(), cpu_of(ours), time.monotonic()
    time.sleep(max(0.0, until - time.monotonic()))
    t1, c1, w1 = cpu_times(), cpu_of(ours), time.monotonic()
    counts = []
    for r in pipes:
        chunks = []
        while True:
            b = os.read(r, 64)
            if not b:
                break
            chunks.append(b)
        counts.append(int(b"".join(chunks) or b"0"))
    for _ in pipes:
        os.wait()
    ncpu = os.cpu_count() or 1
    busy = 1 - (t1[1] - t0[1]) / ((t1[0] - t0[0]) or 1)
    bench = (c1 - c0) / ((w1 - w0) * ncpu)  # share of the machine the generator, server and ksoftirqd used
    print(json.dumps({
        "rate": sum(counts) / seconds,
        "per_client": counts,
        "cpu_busy": busy,
        "cpu_bench": bench,
        "cpu_other": max(0.0, busy - bench),
        # connections per second had the bench had every CPU to itself, at the cost per connection measured
        "rate_per_machine": sum(counts) / max(c1 - c0, 1e-9) * ncpu,
    }), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "server":
        server(int(a[1]), int(a[2]))
    elif a[0] == "client":
        client(a[1], int(a[2]), time.monotonic() + float(a[3]), float(a[4]), int(a[5]), int(a[6]), [int(p) for p in a[7:]])
    else:
        sys.exit(__doc__)
