#!/usr/bin/env python3
"""The plugin contract 1.0 targets (docs/benchmarks.md), run by scripts/bench-contract.sh on 127.0.0.1.

1. GET /api/health on guildhall beside a bare Hummingbird server answering the same JSON body (and its "Hello,
   world!"), wrk at 64 connections, alternated; requests per second and server CPU time per request (from
   /proc/<pid>/stat, steadier than req/s when the load generator shares the cores).
2. The previous release beside this build, each seeded through its own API with the same data: GET /api/tickets as
   the admin (100 tickets x 10 messages) and GET /api/v1/encounters by random guilds' keys (20 guilds x 50
   encounters), alternated.
3. 100 reloads of the tickets cog while wrk loads its HTTP route, a WebSocket client runs its join_ticket action in
   a loop and an HTTP client runs its !ticket command in a loop: failures of each, reload p50/p95.
"""
import importlib.util, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request

import websocket  # websocket-client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CURRENT = os.path.join(ROOT, ".build", "release", "guildhall")
PREVIOUS = os.environ.get("PREVIOUS_GUILDHALL", "")
BASELINE = os.path.join(ROOT, ".build", "release", "hello-baseline")
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
QUICK = "--quick" in sys.argv
ROUNDS = int(os.environ.get("ROUNDS", 1 if QUICK else 3))
DURATION = "5s" if QUICK else "10s"
ADMIN_PASS = "bench-admin-password"
TICK = os.sysconf("SC_CLK_TCK")
spec = importlib.util.spec_from_file_location("combatlog_bench", os.path.join(ROOT, "scripts", "bench", "combatlog_bench.py"))
combatlog_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(combatlog_bench)

CONFIG = """logging:
  level: warning
plugins:
  enabled: [tickets, memes, rocket_league, combatlog]
general:
  message_cooldown: 0
tickets:
  max_open_per_user: 1000
gateway:
  messages_per_minute: 1000000
  commands_per_minute: 1000000
"""


def request(port, method, path, body=None, token=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.load(response)


def wait_up(port, path="/api/health"):
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not answer")


def start(binary, port, folder):
    os.makedirs(folder, exist_ok=True)
    config = os.path.join(folder, "config.yaml")
    with open(config, "w") as f:
        f.write(CONFIG)
    users = ",".join(f"user{n}:password" for n in range(1, 21))
    env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS, API_EXTRA_USERS=users,
               DB_PATH=os.path.join(folder, "g.sqlite"), API_PORT=str(port))
    process = subprocess.Popen([binary, "serve", "--config", config], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(port)
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wrk(url, pid=None, connections=64, token=None, keys=None, duration=DURATION):
    env = dict(os.environ, TOKEN=token or "", KEYS=",".join(keys or []))
    before = cpu_seconds(pid) if pid else 0
    out = subprocess.run(["timeout", "120", "wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency", "-s", LUA, url],
                         env=env, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
    result = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
    if pid:
        result["cpu_us_per_request"] = (cpu_seconds(pid) - before) * 1e6 / max(1, result["requests"])
    return result


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def health(folder, results):
    baseline = subprocess.Popen([BASELINE, "18591"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_up(18591, "/")
    server = start(CURRENT, 18590, os.path.join(folder, "health"))
    targets = {"baseline_json": ("http://127.0.0.1:18591/api/health", baseline.pid),
               "baseline_hello": ("http://127.0.0.1:18591/", baseline.pid),
               "guildhall": ("http://127.0.0.1:18590/api/health", server.pid)}
    for url, pid in targets.values():
        wrk(url, pid, duration="2s")  # warm up
    runs = {name: [] for name in targets}
    for _ in range(ROUNDS):
        for name, (url, pid) in targets.items():
            runs[name].append(wrk(url, pid))
    stop(server)
    baseline.send_signal(signal.SIGTERM)
    baseline.wait(timeout=10)
    results["health"] = runs


def seed(port):
    admin = request(port, "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
    users = [request(port, "POST", "/api/auth/login", {"username": f"user{n}", "password": "password"})["token"] for n in range(1, 21)]
    for number in range(100):
        owner = users[number % len(users)]
        ticket = request(port, "POST", "/api/tickets", {"subject": f"Ticket {number}", "message": "printer error"}, owner)
        for index in range(1, 10):
            request(port, "POST", f"/api/tickets/{ticket['ticket']['ticket_id']}/send", {"message": f"reply {index}"},
                    admin if index % 2 else owner)
    keys = []
    budget = {"events_per_minute": 10**9, "requests_per_minute": 10**9, "max_connections": 5}
    for number in range(20):
        guild = request(port, "POST", "/api/v1/admin/guilds", {"name": f"Guild {number}", "server": "Bench", "region": "eu",
                                                              "faction": "Horde"}, admin)
        key = request(port, "POST", f"/api/v1/admin/guilds/{guild['id']}/api-keys", {"description": "bench", **budget}, admin)["api_key"]
        keys.append(key)
        upload = request(port, "POST", "/api/v1/logs/upload", token=key, raw=combatlog_bench.synthetic_guild_log(guild["id"], 50).encode())
        for _ in range(3000):
            if request(port, "GET", f"/api/v1/logs/{upload['upload_id']}", token=key)["data"]["status"] in ("completed", "failed"):
                break
            time.sleep(0.02)
    return admin, keys


def previous_release(folder, results):
    servers = {"previous": (PREVIOUS, 18592), "current": (CURRENT, 18593)}
    running = {}
    for name, (binary, port) in servers.items():
        process = start(binary, port, os.path.join(folder, name))
        running[name] = (process, port, *seed(port))
    runs = {f"{route}:{name}": [] for route in ("tickets", "encounters") for name in servers}
    for name, (process, port, admin, keys) in running.items():  # warm up
        wrk(f"http://127.0.0.1:{port}/api/tickets", process.pid, token=admin, duration="2s")
        wrk(f"http://127.0.0.1:{port}/api/v1/encounters", process.pid, connections=16, keys=keys, duration="2s")
    for _ in range(ROUNDS):
        for name, (process, port, admin, keys) in running.items():
            runs[f"tickets:{name}"].append(wrk(f"http://127.0.0.1:{port}/api/tickets", process.pid, token=admin))
            runs[f"encounters:{name}"].append(wrk(f"http://127.0.0.1:{port}/api/v1/encounters", process.pid, connections=16, keys=keys))
    for process, *_ in running.values():
        stop(process)
    results["previous_release"] = runs


def reloads(folder, results):
    port = 18594
    server = start(CURRENT, port, os.path.join(folder, "reload"))
    admin = request(port, "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
    ticket = request(port, "POST", "/api/tickets", {"subject": "Reload", "message": "keep me"}, admin)["ticket"]["ticket_id"]
    stopping = threading.Event()
    counts = {"action_ok": 0, "action_failed": [], "command_ok": 0, "command_failed": []}

    def actions():
        client = websocket.create_connection(f"ws://127.0.0.1:{port}/ws?token={admin}", timeout=10)
        client.recv()  # welcome
        while not stopping.is_set():
            client.send(json.dumps({"action": "join_ticket", "ticket_id": ticket}))
            while True:
                frame = json.loads(client.recv())
                if frame.get("action") in ("message_history", "error"):
                    break
            if frame.get("action") == "message_history":
                counts["action_ok"] += 1
            else:
                counts["action_failed"].append(frame)
        client.close()

    def commands():
        while not stopping.is_set():
            reply = request(port, "POST", "/api/bot/messages", {"content": "!ticket list"}, admin).get("reply") or ""
            if reply.startswith("#"):
                counts["command_ok"] += 1
            else:
                counts["command_failed"].append(reply)

    workers = [threading.Thread(target=actions), threading.Thread(target=commands)]
    load = subprocess.Popen(["timeout", "180", "wrk", "-t1", "-c16", "-d60s", "-s", LUA, f"http://127.0.0.1:{port}/api/tickets"],
                            env=dict(os.environ, TOKEN=admin), stdout=subprocess.PIPE, text=True)
    for worker in workers:
        worker.start()
    time.sleep(1)
    durations, failed_reloads = [], 0
    for _ in range(100):
        began = time.monotonic()
        answer = request(port, "POST", "/api/cogs/reload", {"cog_name": "tickets"}, admin)
        durations.append((time.monotonic() - began) * 1000)
        failed_reloads += answer.get("state") != "loaded"
    stopping.set()
    for worker in workers:
        worker.join(timeout=30)
    load.send_signal(signal.SIGINT)
    line = next(l for l in load.communicate(timeout=60)[0].splitlines() if l.startswith("WRKRESULT"))
    stop(server)
    durations.sort()
    results["reload"] = {
        "p50_ms": durations[49], "p95_ms": durations[94], "max_ms": durations[-1], "failed_reloads": failed_reloads,
        "route": {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)},
        "actions_ok": counts["action_ok"], "actions_failed": counts["action_failed"][:5], "actions_failed_count": len(counts["action_failed"]),
        "commands_ok": counts["command_ok"], "commands_failed": counts["command_failed"][:5],
        "commands_failed_count": len(counts["command_failed"]),
    }


def main():
    folder = tempfile.mkdtemp(prefix="guildhall-contract-bench-")
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
    only = set(os.environ.get("ONLY", "health,previous,reload").split(","))
    try:
        if "health" in only:
            health(folder, results)
        if "previous" in only and PREVIOUS:
            previous_release(folder, results)
        if "reload" in only:
            reloads(folder, results)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results, indent=2))
    print()
    if "health" in results:
        h = results["health"]
        for name in h:
            print(f"health {name}: {median(h[name], 'req_s'):.0f} req/s, p99 {median(h[name], 'p99_ms'):.2f} ms, "
                  f"{median(h[name], 'cpu_us_per_request'):.1f} us CPU/request")
        print(f"guildhall / same-JSON baseline: {median(h['guildhall'], 'req_s') / median(h['baseline_json'], 'req_s') * 100:.0f}% "
              f"(target >= 80%)")
    if "previous_release" in results:
        p = results["previous_release"]
        for route in ("tickets", "encounters"):
            before, after = median(p[f"{route}:previous"], "req_s"), median(p[f"{route}:current"], "req_s")
            print(f"{route}: previous {before:.0f} req/s, current {after:.0f} req/s = {after / before * 100:.0f}% "
                  f"(p99 {median(p[f'{route}:previous'], 'p99_ms'):.2f} -> {median(p[f'{route}:current'], 'p99_ms'):.2f} ms)")
    if "reload" in results:
        r = results["reload"]
        print(f"reload x100: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms, failed {r['failed_reloads']}; "
              f"route {r['route']['requests']:.0f} requests, non-2xx {r['route']['non2xx']:.0f}, socket errors {r['route']['sock_err']:.0f}; "
              f"actions {r['actions_ok']} ok / {r['actions_failed_count']} failed; commands {r['commands_ok']} ok / {r['commands_failed_count']} failed")


if __name__ == "__main__":
    main()
