#!/usr/bin/env python3
"""Issue 12's targets (docs/benchmarks.md), run by scripts/bench-ops.sh on 127.0.0.1.

1. The analytics middleware's cost: two servers from the same release build, one with `analytics.enabled: true` and
   one with false, both up for the whole run. wrk (64 connections, 2 s warm-up + 10 s) alternates between them for
   ROUNDS rounds (default 5) on GET /api/health (anonymous) and on GET /api/ping signed in with the admin app's
   headers (which also keeps a session up to date). Also reports server CPU time per request (/proc/<pid>/stat).
2. How fast signing out and deleting a user take effect: a gateway connection is open with the token; the time from
   sending POST /api/auth/logout (or DELETE /api/v1/users/{id}) until the connection is closed by the server, and
   whether the next request with the token answers 401. SAMPLES times each (default 50).
"""
import asyncio, json, os, re, shutil, statistics, subprocess, tempfile, time, urllib.error, urllib.request

import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
ROUNDS = int(os.environ.get("ROUNDS", "5"))
SAMPLES = int(os.environ.get("SAMPLES", "50"))
PORTS = {"on": 18700, "off": 18701}
ADMIN_PASS = "bench-admin-password"
TICK = os.sysconf("SC_CLK_TCK")
APP_HEADERS = ["-H", "X-App-Version: 3.1.0", "-H", "X-Platform: android", "-H", "X-Device-Info: Pixel 8",
               "-H", "X-Session-ID: bench-session", "-H", "User-Agent: Chillventory/1.0 (Android; Flutter)"]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def call(port, method, path, token=None, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def login(port, user, password):
    return call(port, "POST", "/api/auth/login", body={"username": user, "password": password})[1]["token"]


def wrk(pid, port, path, token, extra):
    env = dict(os.environ, TOKEN=token or "")
    url = f"http://127.0.0.1:{port}{path}"
    subprocess.run(["wrk", "-t2", "-c64", "-d2s", "-s", LUA, *extra, url], env=env, capture_output=True)
    before = cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t2", "-c64", "-d10s", "--latency", "-s", LUA, *extra, url], env=env,
                         capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - before
    result = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", next(l for l in out.splitlines() if l.startswith("WRKRESULT")))}
    result["cpu_us_per_request"] = cpu * 1e6 / max(1, result["requests"])
    return result


async def time_until_closed(port, token, revoke):
    """Seconds from starting `revoke` until the server closes the token's gateway connection."""
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws?token={token}") as socket:
        await socket.recv()  # connected
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(None, revoke)
        try:
            while True:
                await asyncio.wait_for(socket.recv(), timeout=5)
        except websockets.ConnectionClosed:
            return time.perf_counter() - started
        except asyncio.TimeoutError:
            return float("inf")


def summary(values):
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2), "samples": len(ordered)}


def revocations(port):
    admin = login(port, "admin", ADMIN_PASS)
    logout, deletion, refused = [], [], 0
    for i in range(SAMPLES):
        token = login(port, "admin", ADMIN_PASS)
        logout.append(asyncio.run(time_until_closed(port, token, lambda: call(port, "POST", "/api/auth/logout", token))))
        refused += call(port, "GET", "/api/ping", token)[0] == 401
        name = f"bench-user-{i}"
        created = call(port, "POST", "/api/v1/users", admin, {"username": name, "password": "bench-password"})[1]
        user_token = login(port, name, "bench-password")
        deletion.append(asyncio.run(time_until_closed(
            port, user_token, lambda: call(port, "DELETE", f"/api/v1/users/{created['user_id']}", admin))))
        refused += call(port, "GET", "/api/ping", user_token)[0] == 401
    return {"logout": summary(logout), "deletion": summary(deletion), "next_request_refused": f"{refused}/{2 * SAMPLES}"}


def main():
    work = tempfile.mkdtemp(prefix="guildhall-ops-bench-")
    servers = {}
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "rounds": ROUNDS}
    try:
        for mode, port in PORTS.items():
            config = os.path.join(work, f"{mode}.yaml")
            with open(config, "w") as f:
                f.write(f"logging:\n  level: warning\nplugins:\n  enabled: []\nanalytics:\n  enabled: {'true' if mode == 'on' else 'false'}\n"
                        "auth:\n  login_attempts_per_ip: 100000\n  bcrypt_cost: 4\n")
            env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS,
                       DB_PATH=os.path.join(work, mode, "guildhall.sqlite"), API_PORT=str(port))
            servers[mode] = subprocess.Popen([os.path.join(ROOT, ".build", "release", "guildhall"), "serve", "--config", config],
                                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in PORTS.values():
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
                    break
                except Exception:
                    time.sleep(0.05)
        tokens = {mode: login(port, "admin", ADMIN_PASS) for mode, port in PORTS.items()}
        rows = {f"{path} analytics {mode}": [] for path in ["health", "ping"] for mode in PORTS}
        for round_number in range(ROUNDS):
            order = list(PORTS) if round_number % 2 == 0 else list(reversed(PORTS))
            for mode in order:
                rows[f"health analytics {mode}"].append(wrk(servers[mode].pid, PORTS[mode], "/api/health", None, []))
                rows[f"ping analytics {mode}"].append(wrk(servers[mode].pid, PORTS[mode], "/api/ping", tokens[mode], APP_HEADERS))
        for name, runs in rows.items():
            results[name] = {key: round(statistics.median(run[key] for run in runs), 3)
                             for key in ["req_s", "p50_ms", "p99_ms", "cpu_us_per_request", "non2xx"]}
            results[name]["rounds_req_s"] = [round(run["req_s"]) for run in runs]
        for path in ["health", "ping"]:
            on, off = results[f"{path} analytics on"]["req_s"], results[f"{path} analytics off"]["req_s"]
            results[f"{path} cost of analytics"] = f"{(1 - on / off) * 100:.1f}% of throughput"
        results["revocation"] = revocations(PORTS["on"])
        print(json.dumps(results, indent=2))
    finally:
        for server in servers.values():
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
