#!/usr/bin/env python3
"""Tickets side by side (see docs/benchmarks.md), run by scripts/bench-tickets.sh.

1. The same data in every server: 50 users, 200 tickets x 20 messages, 30% closed. The references are seeded by
   their own seed.py; Guildhall through its own API, as its users would fill it.
2. tools/http_bench.sh (wrk, 2 threads, 64 connections, 10 s) on GET /api/tickets as the admin (every ticket,
   with unread counts), alternated between Flask as the document deploys it (gunicorn, 2 sync workers: no
   keep-alive), Flask with keep-alive (gthread, 2 workers x 4 threads), FastAPI (uvicorn, 2 workers) and Guildhall.
3. Guildhall only: 50 WebSocket clients in one ticket's room, 200 POST /api/tickets/{id}/send at 20/s; the time
   from each POST to each client's new_message.
"""
import asyncio, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.abspath(os.environ.get("BENCH", os.path.join(ROOT, "..", "shared", "bench")))
PYTHON = sys.executable
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
ADMIN_PASS = "bench-admin-password"
PORTS = {"guildhall": 18390, "flask": 18391, "fastapi": 18392, "flask-sync": 18393}


def request(port, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.load(response)


def wait_up(port):
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not answer")


def seed_guildhall(port, users=50, tickets=200, messages=20):
    admin = request(port, "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
    tokens = [request(port, "POST", "/api/auth/login", {"username": f"user{n}", "password": "password"})["token"]
              for n in range(1, users + 1)]
    for number in range(tickets):
        owner = tokens[number % users]
        ticket = request(port, "POST", "/api/tickets", {"subject": f"Ticket {number}", "message": "printer error again"}, owner)
        ticket_id = ticket["ticket"]["ticket_id"]
        for index in range(1, messages):
            author = admin if index % 2 else owner
            request(port, "POST", f"/api/tickets/{ticket_id}/send", {"message": f"message {index} about the refund"}, author)
        if number % 10 < 3:
            request(port, "POST", f"/api/tickets/{ticket_id}/close", None, admin)
    return admin


def http_bench(label, port, token):
    env = dict(os.environ, LABEL=label, API_TOKEN=token)
    out = subprocess.run(["bash", os.path.join(BENCH, "tools", "http_bench.sh"), f"http://127.0.0.1:{port}"],
                         env=env, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if "/api/tickets" in l)
    return {k: float(v) for k, v in re.findall(r"(req/s|p50|p90|p99|max|non2xx)=([\d.]+)", line)}


async def delivery(port, admin, clients=50, sends=200, rate=20):
    ticket = request(port, "POST", "/api/tickets", {"subject": "Room", "message": "everyone in"}, admin)["ticket"]["ticket_id"]
    sent = {}
    latencies = []
    sockets = []
    for _ in range(clients):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws?token={admin}", max_size=1 << 22)
        await ws.send(json.dumps({"action": "join_ticket", "ticket_id": ticket}))
        while json.loads(await ws.recv()).get("action") != "message_history":
            pass
        sockets.append(ws)

    async def listen(ws):
        count = 0
        while count < sends:
            frame = json.loads(await ws.recv())
            if frame.get("action") == "new_message":
                received = time.monotonic()
                content = frame["message"]["content"]
                latencies.append((received - sent[content]) * 1000)
                count += 1

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    for number in range(sends):
        content = f"bench {number}"
        sent[content] = time.monotonic()
        await asyncio.to_thread(request, port, "POST", f"/api/tickets/{ticket}/send", {"message": content}, admin)
        await asyncio.sleep(1 / rate)
    await asyncio.wait_for(asyncio.gather(*listeners), timeout=60)
    for ws in sockets:
        await ws.close()
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * (len(latencies) - 1)))]
    return {"clients": clients, "sends": sends, "delivered": len(latencies), "p50_ms": pick(50), "p95_ms": pick(95),
            "p99_ms": pick(99), "max_ms": latencies[-1]}


def start_guildhall(binary, port, folder, processes):
    """Serves `binary` with the Tickets cog on `port`, its database in `folder`; 50 users user1..user50."""
    os.makedirs(folder, exist_ok=True)
    config = os.path.join(folder, "config.yaml")
    with open(config, "w") as f:
        f.write("logging:\n  level: warning\nplugins:\n  enabled: [tickets]\nauth:\n  bcrypt_cost: 4\n  login_attempts_per_ip: 1000\n"
                "tickets:\n  max_open_per_user: 10\n  max_message_length: 4000\n")
    users = ",".join(f"user{n}:password:user" for n in range(1, 51))
    env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS, API_EXTRA_USERS=users,
               DB_PATH=os.path.join(folder, "guildhall.sqlite"), API_PORT=str(port))
    processes.append(subprocess.Popen([binary, "serve", "--config", config], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def start_references(work, ports, processes):
    """Seeds one reference database and serves it with Flask (gthread at ports['flask'], the document's sync workers
    at ports['flask-sync']) and FastAPI (ports['fastapi'])."""
    ref_env = dict(os.environ, API_DB_PATH=os.path.join(work, "tickets.db"), API_ADMIN_USER="admin",
                   API_ADMIN_PASS=ADMIN_PASS, API_JWT_SECRET="bench-jwt-secret-not-for-production")
    subprocess.run([PYTHON, "seed.py", "--reset"], cwd=os.path.join(BENCH, "flask_ref"), env=ref_env, check=True,
                   stdout=subprocess.DEVNULL)
    bin_dir = os.path.dirname(PYTHON)
    for name, worker in (("flask", ["-k", "gthread", "--threads", "4"]), ("flask-sync", ["-k", "sync"])):
        processes.append(subprocess.Popen(
            [os.path.join(bin_dir, "gunicorn"), "-w", "2", *worker, "-b", f"127.0.0.1:{ports[name]}", "app:app"],
            cwd=os.path.join(BENCH, "flask_ref"), env=ref_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    processes.append(subprocess.Popen(
        [os.path.join(bin_dir, "uvicorn"), "app:app", "--host", "127.0.0.1", "--port", str(ports["fastapi"]), "--workers", "2",
         "--no-access-log", "--log-level", "warning"],
        cwd=os.path.join(BENCH, "fastapi_ref"), env=ref_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def stop(processes, work):
    """Stops the servers (SIGTERM, then kill after 20 s) and removes the work folder."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(work, ignore_errors=True)


def main():
    work = tempfile.mkdtemp(prefix="guildhall-tickets-bench-")
    processes = []
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3]}
    try:
        start_guildhall(os.path.join(ROOT, ".build", "release", "guildhall"), PORTS["guildhall"], work, processes)
        start_references(work, PORTS, processes)
        for port in PORTS.values():
            wait_up(port)
        tokens = {"guildhall": seed_guildhall(PORTS["guildhall"])}
        for name in ("flask", "fastapi", "flask-sync"):
            tokens[name] = request(PORTS[name], "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
        sizes = {name: len(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/api/tickets?status=all", headers={"Authorization": f"Bearer {tokens[name]}"})).read())
            for name, port in PORTS.items()}
        results["response_bytes"] = sizes
        runs = {name: [] for name in PORTS}
        for _ in range(ROUNDS):
            for name, port in PORTS.items():
                runs[name].append(http_bench(name, port, tokens[name]))
        results["list"] = runs
        results["delivery"] = asyncio.run(delivery(PORTS["guildhall"], tokens["guildhall"]))
    finally:
        stop(processes, work)

    print(json.dumps(results, indent=2))
    print()
    median = {name: statistics.median(r["req/s"] for r in runs) for name, runs in results["list"].items()}
    for name, runs in results["list"].items():
        print(f"GET /api/tickets {name:9s} req/s " + ", ".join(f"{r['req/s']:.0f}" for r in runs)
              + "  p99 ms " + ", ".join(f"{r['p99']:.2f}" for r in runs) + f"  ({results['response_bytes'][name]} bytes)")
    print(f"Guildhall = {median['guildhall'] / median['flask-sync']:.1f}x Flask as deployed (sync workers), "
          f"{median['guildhall'] / median['flask']:.1f}x Flask with keep-alive (target >= 10), "
          f"{median['guildhall'] / median['fastapi']:.1f}x FastAPI (target >= 3)")
    d = results["delivery"]
    print(f"send to delivery, {d['clients']} clients in the room, {d['sends']} sends: p50 {d['p50_ms']:.2f} ms, "
          f"p95 {d['p95_ms']:.2f} ms (target < 10), p99 {d['p99_ms']:.2f} ms, delivered {d['delivered']}/{d['sends'] * d['clients']}")


if __name__ == "__main__":
    main()
