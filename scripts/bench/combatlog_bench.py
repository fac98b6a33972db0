#!/usr/bin/env python3
"""Measures the CombatLog cog's targets with the release build on 127.0.0.1 (see docs/benchmarks.md).

1. `guildhall combatlog parse` pinned to one core (taskset) on the shared real raid logs concatenated to 1 GB:
   throughput, and peak resident memory at 100 MB, 500 MB and 1 GB.
2. A 1 GB upload (raw body, curl) from the request until the upload reports every encounter stored.
3. 100 guilds with 100 encounters each (uploaded through the API), then GET /api/v1/encounters with each request
   made by a random guild's key, wrk at 16 connections: p99.
"""
import gzip, json, os, random, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUILDHALL = os.path.join(ROOT, ".build", "release", "guildhall")
SAMPLES = os.path.join(os.environ.get("COMBATLOG", os.path.join(ROOT, "..", "shared", "combatlog")), "samples")
QUICK = "--quick" in sys.argv
# ONLY=parse,upload,query runs a subset.
ONLY = set(os.environ.get("ONLY", "parse,upload,query").split(","))
ADMIN_PASS = "bench-admin-password"
PORT = 18290
BASE = f"http://127.0.0.1:{PORT}"


def request(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as response:
        return json.load(response)


def make_log(folder, megabytes):
    """The raid samples, one after another, repeated until the file reaches `megabytes`."""
    raids = sorted(n for n in os.listdir(SAMPLES) if n.startswith("raid-11.2"))
    pieces = []
    for name in raids:
        with gzip.open(os.path.join(SAMPLES, name), "rb") as f:
            data = f.read()
        pieces.append(data if data.endswith(b"\n") else data + b"\n")
    path = os.path.join(folder, f"WoWCombatLog-{megabytes}MB.txt")
    target = megabytes * 1024 * 1024
    with open(path, "wb") as out:
        written = 0
        while written < target:
            for piece in pieces:
                out.write(piece)
                written += len(piece)
    return path


def start_server(binary, work, port):
    """`binary serve` with the combat log cog and the guilds' budgets out of the way, once it answers."""
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as f:
        f.write("logging:\n  level: warning\nplugins:\n  enabled: [combatlog]\ntenancy:\n"
                "  guild_events_per_minute: 1000000000\n  guild_requests_per_minute: 1000000000\n")
    env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS, DB_PATH=os.path.join(work, "g.sqlite"),
               API_PORT=str(port))
    server = subprocess.Popen([binary, "serve", "--config", config], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1)
            break
        except Exception:
            time.sleep(0.05)
    return server


def parse_run(path):
    out = subprocess.run(["taskset", "-c", "0", "/usr/bin/time", "-f", "TIME %e %M", GUILDHALL, "combatlog", "parse", path],
                         capture_output=True, text=True)
    elapsed, rss_kb = re.search(r"TIME ([\d.]+) (\d+)", out.stderr).groups()
    encounters = int(re.search(r"(\d+) encounters", out.stdout).group(1))
    return float(elapsed), int(rss_kb) / 1024, encounters


def synthetic_guild_log(guild, pulls=100):
    """`pulls` small encounters over 30 days: 20 players, damage, heals and deaths, ten bosses."""
    lines = ["1/1/2026 00:00:00.0000  COMBAT_LOG_VERSION,22,ADVANCED_LOG_ENABLED,1,BUILD_VERSION,11.2.0,PROJECT_ID,1"]
    block = "0000000000000000,0000000000000000,100,100,0,0,0,0,0,0,0,0,0,0,1.0,2.0,2464,1.0,80"
    for pull in range(pulls):
        day, minute = 1 + pull * 30 // pulls, pull % 60
        stamp = lambda s: f"10/{day}/2026 20:{minute:02d}:{s:02d}.0000"
        boss = f"Boss {pull % 10}"
        lines.append(f"{stamp(0)}  ENCOUNTER_START,{3000 + pull % 10},\"{boss}\",16,20,2810")
        for second in range(1, 30):
            for player in range(20):
                guid = f"Player-{guild}-{player:08X}"
                lines.append(f"{stamp(second)}  SPELL_DAMAGE,{guid},\"P{player}-Realm-EU\",0x512,0x80000000,"
                             f"Vehicle-0-1-1-1-9{pull % 10}-0000000001,\"{boss}\",0x10a48,0x80000000,1,\"Hit\",0x1,{block},"
                             f"{1000 + player},{1000 + player},-1,1,0,0,0,nil,nil,nil,ST")
        lines.append(f"{stamp(30)}  ENCOUNTER_END,{3000 + pull % 10},\"{boss}\",16,20,{pull % 2},30000")
    return "\n".join(lines) + "\n"


def wait_done(upload, key, timeout=600):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        record = request("GET", f"/api/v1/logs/{upload}", token=key)["data"]
        if record["status"] in ("completed", "failed"):
            return record
        time.sleep(0.02)
    raise RuntimeError("upload did not finish")


def main():
    work = tempfile.mkdtemp(prefix="guildhall-combatlog-bench-")
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(),
               "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")}
    server = None
    try:
        # 1. Parse throughput on one core, and memory against size.
        files = {}
        if "parse" in ONLY:
            sizes = [100, 1024] if QUICK else [100, 500, 1024]
            files = {size: make_log(work, size) for size in sizes}
            parse_run(files[100])  # warm the page cache and the binary
            memory = {}
            for size in sizes:
                elapsed, rss, encounters = parse_run(files[size])
                memory[size] = {"seconds": elapsed, "rss_mb": rss, "encounters": encounters, "mb_s": size * 1.048576 / elapsed}
            runs = [parse_run(files[1024])[0] for _ in range(1 if QUICK else 3)]
            results["parse"] = {"by_size": memory, "gigabyte_seconds": runs,
                                "mb_s": 1024 * 1.048576 / statistics.median(runs)}
            for size in sizes[:-1]:
                os.remove(files[size])

        # The server, for 2 and 3.
        server = start_server(GUILDHALL, work, PORT)
        admin = request("POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
        budget = {"events_per_minute": 10**9, "requests_per_minute": 10**9, "max_connections": 5}
        if "upload" in ONLY:
            upload_gigabyte(files.get(1024) or make_log(work, 1024), admin, budget, server, results)
        if "query" in ONLY:
            query_guilds(admin, budget, results)
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    report(results)


def upload_gigabyte(path, admin, budget, server, results):
    """2. A 1 GB upload (streamed by curl) until the upload reports every encounter stored."""
    guild = request("POST", "/api/v1/admin/guilds", {"name": "Upload", "server": "Bench", "region": "eu", "faction": "Horde"}, admin)
    key = request("POST", f"/api/v1/admin/guilds/{guild['id']}/api-keys", {"description": "bench", **budget}, admin)["api_key"]
    started = time.monotonic()
    out = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {key}", "-H", "X-File-Name: WoWCombatLog.txt", "-H", "Expect:",
                          "-X", "POST", "-T", path, BASE + "/api/v1/logs/upload"], capture_output=True, text=True)
    accepted = json.loads(out.stdout)
    uploaded = time.monotonic() - started
    record = wait_done(accepted["upload_id"], key)
    total = time.monotonic() - started
    rss = int(next(l.split()[1] for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM"))) / 1024
    results["upload"] = {"bytes": os.path.getsize(path), "request_s": uploaded, "total_s": total,
                         "encounters": record["encounters"], "status": record["status"], "server_peak_rss_mb": rss}
    os.remove(path)


def query_guilds(admin, budget, results):
    """3. 10,000 encounters across 100 guilds (uploaded through the API), queried by random guilds' keys."""
    keys = []
    guild_count = 20 if QUICK else 100
    for number in range(guild_count):
        created = request("POST", "/api/v1/admin/guilds", {"name": f"Guild {number}", "server": "Bench", "region": "eu",
                                                         "faction": "Alliance"}, admin)
        guild_key = request("POST", f"/api/v1/admin/guilds/{created['id']}/api-keys", {"description": "bench", **budget},
                            admin)["api_key"]
        keys.append(guild_key)
        req = urllib.request.Request(BASE + "/api/v1/logs/upload", data=synthetic_guild_log(created["id"]).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {guild_key}"})
        with urllib.request.urlopen(req, timeout=60) as response:
            upload = json.load(response)["upload_id"]
        wait_done(upload, guild_key)
    stored = sum(request("GET", "/api/v1/encounters?limit=1", token=k)["pagination"]["total"] for k in keys)
    lua = os.path.join(ROOT, "scripts", "bench", "result.lua")
    runs = {}
    for connections in (4, 16):
        runs[connections] = []
        for _ in range(1 if QUICK else 3):
            out = subprocess.run(["wrk", "-t2", f"-c{connections}", "-d10s", "--latency", "-s", lua, BASE + "/api/v1/encounters"],
                                 env=dict(os.environ, KEYS=",".join(keys)), capture_output=True, text=True).stdout
            line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
            runs[connections].append({k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)})
    results["query"] = {"guilds": guild_count, "encounters": stored, "runs_by_connections": runs}


def report(results):
    print(json.dumps(results, indent=2))
    print()
    if "parse" in results:
        p = results["parse"]
        print(f"parse, one core: {p['mb_s']:.0f} MB/s on 1 GB (target >= 300); peak RSS "
              + ", ".join(f"{size} MB: {m['rss_mb']:.0f} MB" for size, m in p["by_size"].items()) + " (target < 100 at 1 GB)")
    if "upload" in results:
        u = results["upload"]
        print(f"1 GB upload: sent in {u['request_s']:.1f} s, every encounter stored after {u['total_s']:.1f} s (target < 10); "
              f"{u['encounters']} encounters, {u['status']}; server peak RSS {u['server_peak_rss_mb']:.0f} MB")
    if "query" in results:
        q = results["query"]
        for connections, runs in q["runs_by_connections"].items():
            print(f"GET /api/v1/encounters, {q['encounters']} encounters across {q['guilds']} guilds, {connections} connections: p99 "
                  + ", ".join(f"{r['p99_ms']:.2f}" for r in runs) + " ms (target < 10); p50 "
                  + ", ".join(f"{r['p50_ms']:.2f}" for r in runs) + " ms; "
                  + ", ".join(f"{r['req_s']:.0f}" for r in runs) + " req/s; non-2xx " + str(sum(r["non2xx"] for r in runs)))


if __name__ == "__main__":
    main()
