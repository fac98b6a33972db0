#!/usr/bin/env python3
"""The ticket list under a realistic mix (issue 13), run by scripts/bench-tickets-mix.sh; see docs/benchmarks.md.

Same data everywhere as tickets_bench.py (50 users, 200 tickets x 20 messages, 30% closed). Then, alternating
between the servers in each round (wrk, 2 threads, 64 connections, 2 s warm-up + 10 s each):
1. list: GET /api/tickets?status=all as the admin, this build against the previous build (PREVIOUS_GUILDHALL, a
   guildhall binary; skipped if unset): the app's admin list with its new fields must stay within 10%.
2. mix: the same list with one POST /api/tickets/{id}/send for every 20 reads, spread over the open tickets
   (scripts/bench/mixed.lua), against this build, Flask as the document deploys it (gunicorn sync), Flask with
   keep-alive (gthread) and FastAPI (uvicorn, 2 workers): at least 5x Flask's requests per second, p99 < 20 ms.
"""
import json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tickets_bench import ADMIN_PASS, BENCH, PYTHON, ROOT, request, seed_guildhall, wait_up  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
PREVIOUS = os.environ.get("PREVIOUS_GUILDHALL")
PORTS = {"guildhall": 18490, "previous": 18491, "flask-sync": 18492, "flask": 18493, "fastapi": 18494}
HERE = os.path.dirname(os.path.abspath(__file__))


def wrk(port, token, script, env_extra=None):
    env = dict(os.environ, API_TOKEN=token, **(env_extra or {}))
    url = f"http://127.0.0.1:{port}/api/tickets?status=all"
    subprocess.run(["wrk", "-t2", "-c64", "-d2s", "--timeout", "5s", "-s", script, url], env=env, capture_output=True)
    out = subprocess.run(["wrk", "-t2", "-c64", "-d10s", "--timeout", "5s", "--latency", "-s", script, url],
                         env=env, capture_output=True, text=True, timeout=60).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKRESULT"))
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def start_guildhall(binary, port, work, processes):
    folder = os.path.join(work, f"gh-{port}")
    os.makedirs(folder)
    config = os.path.join(folder, "config.yaml")
    with open(config, "w") as f:
        f.write("logging:\n  level: warning\nplugins:\n  enabled: [tickets]\nauth:\n  bcrypt_cost: 4\n  login_attempts_per_ip: 1000\n"
                "tickets:\n  max_open_per_user: 10\n  max_message_length: 4000\n")
    users = ",".join(f"user{n}:password:user" for n in range(1, 51))
    env = dict(os.environ, API_ADMIN_USER="admin", API_ADMIN_PASS=ADMIN_PASS, API_EXTRA_USERS=users,
               DB_PATH=os.path.join(folder, "guildhall.sqlite"), API_PORT=str(port))
    processes.append(subprocess.Popen([binary, "serve", "--config", config], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))


def open_ids(port, token):
    listing = request(port, "GET", "/api/tickets?status=open", token=token)["tickets"]
    return ",".join(str(t.get("ticket_id", t.get("id"))) for t in listing)


def main():
    work = tempfile.mkdtemp(prefix="guildhall-mix-bench-")
    processes = []
    servers = dict(PORTS)
    if not PREVIOUS:
        servers.pop("previous")
    results = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3]}
    try:
        start_guildhall(os.path.join(ROOT, ".build", "release", "guildhall"), PORTS["guildhall"], work, processes)
        if PREVIOUS:
            start_guildhall(PREVIOUS, PORTS["previous"], work, processes)
        ref_env = dict(os.environ, API_DB_PATH=os.path.join(work, "tickets.db"), API_ADMIN_USER="admin",
                       API_ADMIN_PASS=ADMIN_PASS, API_JWT_SECRET="bench-jwt-secret-not-for-production")
        subprocess.run([PYTHON, "seed.py", "--reset"], cwd=os.path.join(BENCH, "flask_ref"), env=ref_env, check=True,
                       stdout=subprocess.DEVNULL)
        bin_dir = os.path.dirname(PYTHON)
        for name, worker in (("flask", ["-k", "gthread", "--threads", "4"]), ("flask-sync", ["-k", "sync"])):
            processes.append(subprocess.Popen(
                [os.path.join(bin_dir, "gunicorn"), "-w", "2", *worker, "-b", f"127.0.0.1:{PORTS[name]}", "app:app"],
                cwd=os.path.join(BENCH, "flask_ref"), env=ref_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen(
            [os.path.join(bin_dir, "uvicorn"), "app:app", "--host", "127.0.0.1", "--port", str(PORTS["fastapi"]), "--workers", "2",
             "--no-access-log", "--log-level", "warning"],
            cwd=os.path.join(BENCH, "fastapi_ref"), env=ref_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in servers.values():
            wait_up(port)
        tokens = {name: seed_guildhall(servers[name]) for name in ("guildhall", "previous") if name in servers}
        for name in ("flask", "fastapi", "flask-sync"):
            tokens[name] = request(PORTS[name], "POST", "/api/auth/login", {"username": "admin", "password": ADMIN_PASS})["token"]
        ids = {name: open_ids(port, tokens[name]) for name, port in servers.items()}
        results["open_tickets"] = {name: len(value.split(",")) for name, value in ids.items()}
        listing = {name: [] for name in ("guildhall", "previous") if name in servers}
        mix = {name: [] for name in servers if name != "previous"}
        for _ in range(ROUNDS):
            for name in listing:
                listing[name].append(wrk(servers[name], tokens[name], os.path.join(HERE, "result.lua"), {"TOKEN": tokens[name]}))
            for name in mix:
                mix[name].append(wrk(servers[name], tokens[name], os.path.join(HERE, "mixed.lua"), {"TICKET_IDS": ids[name]}))
        results["list"], results["mix"] = listing, mix
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(json.dumps(results, indent=2))
    print()
    med = lambda runs, key: statistics.median(r[key] for r in runs)
    for name, runs in results["list"].items():
        print(f"list {name:10s} req/s " + ", ".join(f"{r['req_s']:.0f}" for r in runs) + "  p99 ms " + ", ".join(f"{r['p99_ms']:.2f}" for r in runs))
    if "previous" in results["list"]:
        print(f"this build = {100 * med(results['list']['guildhall'], 'req_s') / med(results['list']['previous'], 'req_s'):.0f}% "
              "of the previous build (target >= 90%)")
    for name, runs in results["mix"].items():
        print(f"mix  {name:10s} req/s " + ", ".join(f"{r['req_s']:.0f}" for r in runs) + "  p99 ms " + ", ".join(f"{r['p99_ms']:.2f}" for r in runs)
              + "  non-2xx " + ", ".join(f"{r['non2xx']:.0f}" for r in runs))
    g = med(results["mix"]["guildhall"], "req_s")
    print(f"mix: Guildhall = {g / med(results['mix']['flask-sync'], 'req_s'):.1f}x Flask as deployed, "
          f"{g / med(results['mix']['flask'], 'req_s'):.1f}x Flask keep-alive (target >= 5), "
          f"{g / med(results['mix']['fastapi'], 'req_s'):.1f}x FastAPI; p99 {med(results['mix']['guildhall'], 'p99_ms'):.2f} ms (target < 20)")


if __name__ == "__main__":
    main()
