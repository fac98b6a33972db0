"""The host tests' probe cog (Tests/GuildhallServerTests/ExternalCogTests.swift)."""
import os
import sys
import time

from guildhall_cog import HTTPError, action, command, host, on_config, on_event, route, run

seen_config = {}


@route("GET", "/api/probe/whoami")
def whoami(request):
    return {"identity": request.identity, "guild": request.guild, "request_id": request.request_id,
            "saw_authorization": "Authorization" in request.headers, "pid": os.getpid()}


@route("GET", "/api/probe/public")
def public(request):
    return {"pid": os.getpid()}


@route("GET", "/api/probe/items/{id}")
def item(request):
    return {"id": int(request.params["id"]), "full": request.arg("full")}


@route("POST", "/api/probe/echo")
def echo(request):
    return 201, {"text": request.json()["text"], "bytes": len(request.body)}


@route("POST", "/api/probe/crash")
def crash(request):
    os._exit(3)


@route("GET", "/api/probe/hang")
def hang(request):
    time.sleep(30)
    return {}


@route("GET", "/api/probe/flood")
def flood(request):
    for line in range(20000):
        print(f"flood line {line}")
    sys.stdout.flush()
    return {"lines": 20000}


@route("POST", "/api/probe/publish")
def publish(request):
    host.publish(request.json()["name"], {"from": "probe"}, guild_id=request.guild_id)
    return 202, {"published": True}


@route("GET", "/api/probe/kv/{key}")
def get_key(request):
    item = host.kv_get(request.params["key"], guild_id=request.guild_id)
    if item is None:
        raise HTTPError(404, "not_found", "No such key.")
    return item


@route("PUT", "/api/probe/kv/{key}")
def put_key(request):
    body = request.json()
    return host.kv_put(request.params["key"], body["value"], guild_id=request.guild_id, if_version=body.get("if_version"),
                       ttl_seconds=body.get("ttl_seconds"))


@route("GET", "/api/probe/config")
def config(request):
    return host.config()


@route("GET", "/api/probe/config-seen")
def config_seen(request):
    return seen_config


@on_config()
def configured(settings):
    seen_config.clear()
    seen_config.update(settings)


@on_event("probe.*")
def remember(event):
    host.kv_put("last_event", {"name": event["name"], "source": event["source"]}, guild_id=event["guild_id"])


@command("probe")
def probe_command(invocation):
    return f"{invocation.username}: {' '.join(invocation.arguments)}"


@action("probe_ping")
def ping(call):
    return {"action": "probe_pong", "guild": call.guild_id, "sent": call.frame.get("text")}


if __name__ == "__main__":
    run()
