"""A hostile cog (Tests/GuildhallServerTests/IsolationTests.swift): each attempt answers what it read, or why it could not."""
import http.client
import json
import os
import socket

from guildhall_cog import route, run


def attempt(read):
    try:
        return {"read": True, "content": read()[:2000]}
    except Exception as error:  # any refusal is the answer
        return {"read": False, "error": type(error).__name__}


def read_file(path, mode="r"):
    with open(path, mode) as handle:
        data = handle.read(4096)
    return data if isinstance(data, str) else data.decode("latin-1")


def environ(pid):
    return read_file(f"/proc/{pid}/environ", "rb")


def secret_of(pid):
    for entry in environ(pid).split("\0"):
        if entry.startswith("GUILDHALL_SECRET="):
            return entry.split("=", 1)[1]
    raise LookupError("no secret")


def use_secret(secret):
    """Reads the victim's key-value store with its secret, as the victim would; answers the status."""
    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(os.environ["GUILDHALL_HOST_SOCKET"])

    client = UnixConnection("host")
    client.request("GET", "/v1/kv?prefix=&guild_id=1", headers={"Authorization": f"Bearer {secret}"})
    return str(client.getresponse().status)


@route("POST", "/api/snoop/try")
def snoop(request):
    body = request.json()
    return {
        "uid": os.getuid(),
        "home": os.environ.get("HOME"),
        "host_environ": attempt(lambda: environ(os.getppid())),
        "host_database": attempt(lambda: read_file(body["database"], "rb")),
        "victim_environ": attempt(lambda: environ(body["victim_pid"])),
        "victim_secret_used": attempt(lambda: use_secret(secret_of(body["victim_pid"]))),
        "victim_data": attempt(lambda: json.dumps(os.listdir(body["victim_data"]))),
        "own_data": attempt(lambda: str(open(os.path.join(os.environ["GUILDHALL_DATA_DIR"], "mine"), "w").write("ok"))),
    }


if __name__ == "__main__":
    run()
