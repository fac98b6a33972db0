#!/usr/bin/env python3
"""Issue 21's target (docs/benchmarks.md), run by scripts/bench-hardening.sh on 127.0.0.1: GET /api/health p99 while
two gzip bombs parse at once.

A bomb is a combat log's first two lines and then newlines only: BOMB_MIB MiB of them (default 1024) compressed to
about a thousandth of that. For each build given (this checkout's release build, and PREVIOUS=path/to/guildhall of
an earlier build if set), a server with the CombatLog cog and budgets that never hold an upload back is started;
then for ROUNDS rounds (default 3), alternating between builds: wrk (1 thread, 8 connections, 10 s) on
/api/health with nothing else running, then two bombs uploaded at once and the same wrk run while both parse. The
server's CPU time over each window comes from /proc/<pid>/stat; whether the bombs were still parsing at the end of
the window, and how each ended, is read from the API.
"""
import gzip, json, os, re, shutil, statistics, subprocess, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "scripts", "bench", "result.lua")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
BOMB_MIB = int(os.environ.get("BOMB_MIB", "1024"))
ADMIN_PASS = "bench-admin-password"
TICK = os.sysconf("SC_CLK_TCK")
HEAD = ("2/16/2026 23:00:00.0000  COMBAT_LOG_VERSION,22,ADVANCED_LOG_ENABLED,1,BUILD_VERSION,11.2.0,PROJECT_ID,1\n"
        "2/16/2026 23:00:00.5000  ZONE_CHANGE,2810,\"Manaforge Omega\",14\n")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def call(port, method, path, token=None, body=None, raw=None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=data,
                                     headers={"Content-Type": "application/json", **(headers or {}),
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def make_bomb(path):
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(HEAD.encode())
        block = b"\n" * (1 << 20)
        for _ in range(BOMB_MIB):
            out.write(block)


def wrk(port):
    out = subprocess.run(["wrk", "-t1", "-c8", "-d10s", "--latency", "-s", LUA, f"http://127.0.0.1:{port}/api/health"],
                         capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


class Server:
    def __init__(self, name, binary, port, work):
        self.name, self.port = name, port
        folder = os.path.join(work, name)
        os.makedirs(folder)
        config = os.path.join(folder, "config.yaml")
        with open(config, "w") as f:
            f.write("logging:\n  level: warning\nplugins:\n  enabled: [combatlog]\nauth:\n  bcrypt_cost: 4\n"
                    "tenancy:\n  guild_events_per_minute: 1000000000000\n")
        env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS,
                   DB_PATH=os.path.join(folder, "guildhall.sqlite"), API_PORT=str(port))
        self.process = subprocess.Popen([binary, "serve", "--config", config], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        admin = call(port, "POST", "/api/auth/login", body={"username": "admin", "password": ADMIN_PASS})[1]["token"]
        guild = call(port, "POST", "/api/v1/admin/guilds", admin,
                     {"name": "Bench", "server": "Silvermoon", "region": "eu", "faction": "Horde"})[1]["id"]
        self.key = call(port, "POST", f"/api/v1/admin/guilds/{guild}/api-keys", admin,
                        {"description": "bench", "events_per_minute": 1000000000, "requests_per_minute": 1000000})[1]["api_key"]

    def upload(self, bomb):
        status, answer = call(self.port, "POST", "/api/v1/logs/upload", self.key, raw=open(bomb, "rb").read(),
                              headers={"X-File-Name": "WoWCombatLog-021626_230000.txt.gz", "Content-Type": "application/gzip"})
        return answer.get("upload_id") if status == 202 else None

    def status(self, upload):
        return call(self.port, "GET", f"/api/v1/logs/{upload}", self.key)[1].get("data", {})

    def settle(self, uploads, limit=600):
        deadline = time.time() + limit
        while time.time() < deadline:
            states = [self.status(u) for u in uploads]
            if all(s.get("status") in ("completed", "failed") for s in states):
                return states
            time.sleep(0.5)
        return [self.status(u) for u in uploads]


def measure(server, bomb):
    before = cpu_seconds(server.process.pid)
    idle = wrk(server.port)
    idle["server_cpu_s"] = round(cpu_seconds(server.process.pid) - before, 2)
    uploads = []
    threads = [threading.Thread(target=lambda: uploads.append(server.upload(bomb))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    before = cpu_seconds(server.process.pid)
    loaded = wrk(server.port)
    loaded["server_cpu_s"] = round(cpu_seconds(server.process.pid) - before, 2)
    loaded["bombs_parsing_at_end"] = sum(server.status(u).get("status") in ("processing", "throttled") for u in uploads if u)
    started = time.time()
    ends = server.settle([u for u in uploads if u])
    loaded["bombs_ended_after_s"] = round(time.time() - started + 10, 1)
    loaded["bombs"] = [{"status": s.get("status"), "error": (s.get("error") or "")[:90], "events": s.get("events")} for s in ends]
    return idle, loaded


def main():
    builds = {"this build": os.path.join(ROOT, ".build", "release", "guildhall")}
    if os.environ.get("PREVIOUS"):
        builds["previous build"] = os.environ["PREVIOUS"]
    work = tempfile.mkdtemp(prefix="guildhall-hardening-bench-")
    bomb = os.path.join(work, "bomb.txt.gz")
    make_bomb(bomb)
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "rounds": ROUNDS,
               "bomb": f"{BOMB_MIB} MiB of newlines in {os.path.getsize(bomb)} bytes of gzip"}
    servers = {}
    try:
        for index, (name, binary) in enumerate(builds.items()):
            servers[name] = Server(name.replace(" ", "-"), binary, 18800 + index, work)
        runs = {name: {"idle": [], "two bombs": []} for name in builds}
        for round_number in range(ROUNDS):
            order = list(builds) if round_number % 2 == 0 else list(reversed(builds))
            for name in order:
                idle, loaded = measure(servers[name], bomb)
                runs[name]["idle"].append(idle)
                runs[name]["two bombs"].append(loaded)
        for name, phases in runs.items():
            for phase, rows in phases.items():
                results[f"{name}, {phase}"] = {
                    "p50_ms": round(statistics.median(r["p50_ms"] for r in rows), 3),
                    "p99_ms": round(statistics.median(r["p99_ms"] for r in rows), 3),
                    "p99_ms_rounds": [round(r["p99_ms"], 2) for r in rows],
                    "req_s": round(statistics.median(r["req_s"] for r in rows)),
                    "non2xx": sum(r["non2xx"] + r["sock_err"] for r in rows),
                    "server_cpu_s": [r["server_cpu_s"] for r in rows],
                    **({"bombs_parsing_at_end": [r["bombs_parsing_at_end"] for r in rows],
                        "bombs_ended_after_s": [r["bombs_ended_after_s"] for r in rows], "bombs": rows[-1]["bombs"]}
                       if phase == "two bombs" else {}),
                }
        print(json.dumps(results, indent=2))
    finally:
        for server in servers.values():
            server.process.terminate()
            server.process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
