"""Write a Guildhall external cog in Python with the standard library only.

The host starts your program with the protocol's environment (docs/external-cogs.md); this module serves HTTP/1.1
on the cog's Unix socket, checks that every request was signed by the host, and turns the protocol into decorators::

    from guildhall_cog import route, on_event, command, every, host, run, HTTPError

    @route("GET", "/api/hello/{name}")
    def hello(request):
        return {"hello": request.params["name"], "guild": request.guild_id}

    @on_event("ticket.*")
    def ticket_changed(event):
        host.publish("hello.saw_ticket", {"ticket": event["payload"].get("id")})

    @command("hello")
    def hello_command(invocation):
        return f"Hello, {invocation.username}!"

    @every("tidy")
    def tidy(guild_id):
        host.kv_delete("stale", guild_id=guild_id)

    @on_config()
    def settings_changed(settings):
        print("now greeting with", settings["greeting"])

    if __name__ == "__main__":
        run()

Copy this one file beside your cog's program: it has no dependencies.
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse

__all__ = [
    "Cog", "Host", "HTTPError", "CommandError", "Request", "Response", "route", "on_event", "command", "action",
    "every", "on_config", "run", "host", "default_cog", "sign", "signed_headers", "HostDouble",
]

#: How far the host's timestamp may be from ours before a request is refused (replays of old requests).
MAX_CLOCK_SKEW_SECONDS = 300


class HTTPError(Exception):
    """Raise in a handler to answer ``{"error": code, "message": message}`` with ``status``."""

    def __init__(self, status, code, message, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class CommandError(Exception):
    """Raise in a command handler: the message is the reply, shown as a mistake."""


class Response:
    """A response other than JSON: any status, headers and bytes."""

    def __init__(self, body=b"", status=200, content_type="application/octet-stream", headers=None):
        self.body = body.encode() if isinstance(body, str) else body
        self.status = status
        self.headers = {"Content-Type": content_type, **(headers or {})}


def sign(secret, method, target, request_id, timestamp, identity, guild):
    """The host's signature of one request (docs/external-cogs.md, "Signed requests")."""
    text = "\n".join(["v1", method, target, request_id, timestamp, identity, guild])
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def signed_headers(secret, method, target, identity=None, guild=None, request_id="test"):
    """The header fields the host sends with a call (for tests that call ``Cog.handle`` directly)."""
    encode = lambda value: base64.b64encode(json.dumps(value).encode()).decode() if value else ""
    headers = {"X-Guildhall-Request-Id": request_id, "X-Guildhall-Timestamp": str(int(time.time()))}
    if identity:
        headers["X-Guildhall-Identity"] = encode(identity)
    if guild:
        headers["X-Guildhall-Guild"] = encode(guild)
    headers["X-Guildhall-Signature"] = sign(secret, method, target, request_id, headers["X-Guildhall-Timestamp"],
                                            encode(identity), encode(guild))
    return headers


def _decode_header(value):
    return json.loads(base64.b64decode(value)) if value else None


class Request:
    """One call from the host: the caller's request to a route, or an event, command, action or task run."""

    def __init__(self, method, target, headers, body, params=None):
        self.method = method
        self.target = target
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.params = params or {}
        self.request_id = headers.get("X-Guildhall-Request-Id", "")
        #: The caller as the host authenticated them: ``{"user_id", "username", "role", "api_key"}``, or None.
        self.identity = _decode_header(headers.get("X-Guildhall-Identity"))
        #: The guild the caller acts in: ``{"id", "name"}``, or None. Filter your data by it, never by a parameter.
        self.guild = _decode_header(headers.get("X-Guildhall-Guild"))

    @property
    def guild_id(self):
        return self.guild["id"] if self.guild else None

    @property
    def user_id(self):
        return self.identity.get("user_id") if self.identity else None

    def arg(self, name, default=None):
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        """The body as JSON; 400 ``invalid_json`` if there is none or it is not JSON."""
        if not self.body:
            raise HTTPError(400, "invalid_json", "Send a JSON body.")
        try:
            return json.loads(self.body)
        except ValueError:
            raise HTTPError(400, "invalid_json", "The body is not JSON.")


class Host:
    """Calls back into the host over its Unix socket, authenticated by this process's secret."""

    def __init__(self, socket_path=None, secret=None):
        self._socket_path, self._secret = socket_path, secret
        self._local = threading.local()

    @property
    def socket_path(self):  # read when used, so a test may set the environment after import
        return self._socket_path or os.environ.get("GUILDHALL_HOST_SOCKET", "")

    @property
    def secret(self):
        return self._secret or os.environ.get("GUILDHALL_SECRET", "")

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = _UnixHTTPConnection(self.socket_path)
            self._local.connection = connection
        return connection

    def call(self, method, path, body=None, query=None):
        """Calls the host; answers the JSON it answered (None for none). Raises HTTPError for an error answer."""
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": "Bearer " + self.secret}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # a kept-alive connection the host closed is opened again once
            connection = self._connection()
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
        answer = json.loads(data) if data else None
        if response.status >= 400:
            answer = answer or {}
            raise HTTPError(response.status, answer.get("error", "host_error"), answer.get("message", ""))
        return answer

    def config(self, guild_id=None):
        """The cog's settings (with the guild's overlay when ``guild_id`` is given)."""
        return self.call("GET", "/v1/config", query={"guild_id": guild_id})

    def publish(self, name, payload=None, guild_id=None, correlation_id=None):
        """Publishes an event; needs the permission ``events:publish:<name or pattern>``."""
        self.call("POST", "/v1/events", {"name": name, "payload": payload or {}, "guild_id": guild_id,
                                         "correlation_id": correlation_id})

    def live_log(self, message):
        """Posts a live log message (``{"type": "system", ...}``); needs ``live_log:post``."""
        return self.call("POST", "/v1/live-log", message)

    def send_topic(self, topic, frame):
        """Sends ``frame`` to the subscribers of one of the cog's gateway topics; needs ``gateway:publish``."""
        return self.call("POST", "/v1/gateway/publish", {"topic": topic, "frame": frame})["delivered"]

    def broadcast(self, guild_id, frame):
        """Sends ``frame`` to every gateway connection of a guild; needs ``gateway:publish``."""
        return self.call("POST", "/v1/gateway/broadcast", {"guild_id": guild_id, "frame": frame})["delivered"]

    def kv_get(self, key, guild_id=None):
        """``{"key", "value", "version", "expires_at"}``, or None; needs ``kv``."""
        try:
            return self.call("GET", "/v1/kv", query={"key": key, "guild_id": guild_id})
        except HTTPError as error:
            if error.code == "key_not_found":
                return None
            raise

    def kv_put(self, key, value, guild_id=None, if_version=None, ttl_seconds=None):
        """Stores ``value``; with ``if_version`` only if the key is at that version (0: absent), else HTTPError
        409 ``version_conflict``. Answers the stored item with its new version."""
        return self.call("PUT", "/v1/kv", {"key": key, "value": value, "guild_id": guild_id, "if_version": if_version,
                                           "ttl_seconds": ttl_seconds})

    def kv_delete(self, key, guild_id=None, if_version=None):
        """Deletes ``key``; answers whether it was there."""
        try:
            self.call("DELETE", "/v1/kv", query={"key": key, "guild_id": guild_id, "if_version": if_version})
            return True
        except HTTPError as error:
            if error.code == "key_not_found":
                return False
            raise

    def kv_list(self, prefix="", guild_id=None, limit=100):
        """The keys starting with ``prefix``, in order."""
        return self.call("GET", "/v1/kv", query={"prefix": prefix, "guild_id": guild_id, "limit": limit})["items"]

    def person(self, user_id, guild_id):
        """``{"user_id", "username", "role"}`` of the user as they act in the guild, or None if they do not; needs
        ``people:read``."""
        try:
            return self.call("GET", "/v1/people", query={"user_id": user_id, "guild_id": guild_id})
        except HTTPError as error:
            if error.code == "person_not_found":
                return None
            raise


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class _Invocation:
    def __init__(self, request, body):
        self.request = request
        self.identity = request.identity
        self.guild = request.guild
        self.guild_id = request.guild_id
        self.username = (request.identity or {}).get("username", "")
        self.arguments = body.get("arguments", [])
        self.raw_arguments = body.get("raw_arguments", "")
        self.frame = body


def _pattern_matches(pattern, name):
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return pattern == name


class Cog:
    """A cog's handlers, and the server that calls them. Module-level decorators use ``default_cog``."""

    def __init__(self, secret=None, events_path="/events", health_path="/health", config_path="/config"):
        self.secret = secret
        self.events_path = events_path
        self.health_path = health_path
        self.config_path = config_path
        self.config_listeners = []
        self.routes = []
        self.listeners = []
        self.commands = {}
        self.actions = {}
        self.tasks = {}

    # Registration

    def route(self, method, path):
        """Serves ``method`` ``path`` (``{name}`` marks a parameter, in ``request.params``). The handler answers a
        dict or list (JSON, 200), ``(status, body)``, a Response, or None (204)."""
        segments = []
        for segment in path.strip("/").split("/"):
            parameter = re.fullmatch(r"\{(\w+)\}", segment)
            segments.append(f"(?P<{parameter.group(1)}>[^/]+)" if parameter else re.escape(segment))
        pattern = re.compile("^/" + "/".join(segments) + "$")

        def register(handler):
            self.routes.append((method.upper(), pattern, handler))
            return handler
        return register

    def on_event(self, pattern="*"):
        """Runs the handler with each event matching ``pattern`` the manifest subscribes to."""
        def register(handler):
            self.listeners.append((pattern, handler))
            return handler
        return register

    def on_config(self):
        """Runs the handler with the cog's whole settings after each runtime change (the manifest must name
        ``config_path: /config``)."""
        def register(handler):
            self.config_listeners.append(handler)
            return handler
        return register

    def command(self, name):
        """Runs the handler for bot command ``name``; it answers the reply text (raise CommandError for a mistake)."""
        def register(handler):
            self.commands[name] = handler
            return handler
        return register

    def action(self, name):
        """Runs the handler for gateway action ``name``; a dict it answers is sent back to the caller."""
        def register(handler):
            self.actions[name] = handler
            return handler
        return register

    def every(self, name):
        """Runs the handler on task ``name``'s schedule (from the manifest), with the guild id for a per-guild task."""
        def register(handler):
            self.tasks[name] = handler
            return handler
        return register

    # Serving

    def verify(self, method, target, headers):
        """Whether the host signed this request with our secret, recently."""
        secret = self.secret if self.secret is not None else os.environ.get("GUILDHALL_SECRET", "")
        timestamp = headers.get("X-Guildhall-Timestamp", "")
        try:
            fresh = abs(time.time() - int(timestamp)) <= MAX_CLOCK_SKEW_SECONDS
        except ValueError:
            return False
        expected = sign(secret, method, target, headers.get("X-Guildhall-Request-Id", ""), timestamp,
                        headers.get("X-Guildhall-Identity", ""), headers.get("X-Guildhall-Guild", ""))
        return fresh and hmac.compare_digest(expected, headers.get("X-Guildhall-Signature", ""))

    def handle(self, method, target, headers, body=b""):
        """Answers one request: ``(status, headers, body bytes)``. Tests call this directly."""
        if not self.verify(method, target, headers):
            return _json(401, {"error": "invalid_signature", "message": "The request was not signed by the host."})
        request = Request(method, target, headers, body)
        try:
            return self._dispatch(request)
        except HTTPError as error:
            return _json(error.status, {"error": error.code, "message": error.message, **error.details})
        except Exception:  # a bug in a handler answers 500; the cog keeps serving
            traceback.print_exc(file=sys.stderr)
            return _json(500, {"error": "cog_error", "message": "The cog failed to handle the request."})

    def _dispatch(self, request):
        path, method = request.path, request.method
        if path == self.health_path and method == "GET":
            return _json(200, {"status": "ok"})
        if method == "POST" and path == self.config_path and self.config_listeners:
            settings = request.json()
            for handler in self.config_listeners:
                handler(settings)
            return 204, {}, b""
        if method == "POST" and path == self.events_path:
            event = request.json()
            for pattern, handler in self.listeners:
                if _pattern_matches(pattern, event.get("name", "")):
                    handler(event)
            return 204, {}, b""
        for prefix, table in (("/commands/", self.commands), ("/actions/", self.actions), ("/tasks/", self.tasks)):
            if method == "POST" and path.startswith(prefix) and path[len(prefix):] in table:
                handler = table[path[len(prefix):]]
                body = request.json() or {}
                if prefix == "/tasks/":
                    handler(body.get("guild_id"))
                    return 204, {}, b""
                invocation = _Invocation(request, body)
                if prefix == "/commands/":
                    try:
                        return _json(200, {"reply": str(handler(invocation))})
                    except CommandError as mistake:
                        return _json(200, {"error_message": str(mistake)})
                answer = handler(invocation)
                return (204, {}, b"") if answer is None else _json(200, answer)
        allowed = False
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if not match:
                continue
            allowed = True
            if route_method != method:
                continue
            request.params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
            return _answer(handler(request))
        if allowed:
            return _json(405, {"error": "method_not_allowed", "message": f"{method} is not served at {path}."})
        return _json(404, {"error": "not_found", "message": f"Nothing is served at {path}."})

    def serve(self, socket_path=None):
        """Serves on ``socket_path`` (default: ``GUILDHALL_SOCKET``) until the process is stopped."""
        socket_path = socket_path or os.environ["GUILDHALL_SOCKET"]
        cog = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                else:
                    body = self.rfile.read(length) if length else b""
                status, headers, payload = cog.handle(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _read_chunked(self):
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

            def address_string(self):
                return "host"

            def log_message(self, format, *args):  # the host logs requests; stay quiet
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            address_family = socket.AF_UNIX
            daemon_threads = True

            def server_bind(self):
                socketserver.TCPServer.server_bind(self)
                self.server_name, self.server_port = "cog", 0

        if os.path.exists(socket_path):
            os.unlink(socket_path)
        server = Server(socket_path, Handler)
        try:
            server.serve_forever()
        finally:
            server.server_close()


def _json(status, value):
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


def _answer(result):
    if isinstance(result, Response):
        return result.status, result.headers, result.body
    if result is None:
        return 204, {}, b""
    if isinstance(result, tuple):
        status, body = result
        return (status, {}, b"") if body is None else _json(status, body)
    return _json(200, result)


class HostDouble:
    """A stand-in for the host's callback API, for a cog's own unit tests: a real HTTP server on a Unix socket that
    keeps events, live log messages, gateway frames and the key-value store in memory. It enforces nothing;
    test permissions against the real host (docs/external-cogs.md, "Testing")."""

    def __init__(self, socket_path, config=None, secret="test-secret", people=None):
        self.socket_path, self.secret, self.config = socket_path, secret, config or {}
        #: ``{(guild_id, user_id): {"user_id", "username", "role"}}``: who acts in which guild.
        self.people = people or {}
        self.events, self.live_log, self.frames, self.store = [], [], [], {}
        double = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                if self.headers.get("Authorization") != "Bearer " + double.secret:
                    status, answer = 401, {"error": "invalid_secret"}
                else:
                    status, answer = double.answer(self.command, self.path, body)
                payload = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def address_string(self):
                return "cog"

            def log_message(self, format, *args):
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.server = Server(socket_path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, method, target, body):
        parsed = urllib.parse.urlsplit(target)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        path = parsed.path
        if path == "/v1/config":
            return 200, self.config
        if path == "/v1/events":
            self.events.append(body)
            return 202, None
        if path == "/v1/live-log":
            self.live_log.append(body)
            return 200, body
        if path in ("/v1/gateway/publish", "/v1/gateway/broadcast"):
            self.frames.append(body)
            return 200, {"delivered": 0}
        if path == "/v1/kv":
            return self._kv(method, query, body)
        if path == "/v1/people":
            person = self.people.get((int(query.get("guild_id") or 0), int(query.get("user_id") or 0)))
            return (200, person) if person else (404, {"error": "person_not_found"})
        return 404, {"error": "not_found"}

    def _kv(self, method, query, body):
        if method == "PUT":
            key = (body.get("guild_id") or 0, body["key"])
            version = self.store.get(key, {}).get("version", 0)
            if body.get("if_version") is not None and body["if_version"] != version:
                return 409, {"error": "version_conflict", "message": f"The key is at version {version}."}
            item = {"key": body["key"], "value": body["value"], "version": version + 1, "expires_at": None}
            self.store[key] = item
            return 200, item
        guild = int(query.get("guild_id") or 0)
        if "key" in query:
            item = self.store.get((guild, query["key"]))
            if method == "DELETE":
                if item is None:
                    return 404, {"error": "key_not_found"}
                del self.store[(guild, query["key"])]
                return 204, None
            return (200, item) if item else (404, {"error": "key_not_found"})
        prefix = query.get("prefix", "")
        items = sorted((item for (g, k), item in self.store.items() if g == guild and k.startswith(prefix)), key=lambda i: i["key"])
        return 200, {"items": items[: int(query.get("limit") or 100)]}


#: The cog the module-level decorators register on.
default_cog = Cog()
#: The host's callbacks for this process.
host = Host()
route = default_cog.route
on_event = default_cog.on_event
command = default_cog.command
action = default_cog.action
every = default_cog.every
on_config = default_cog.on_config


def run():
    """Serves ``default_cog`` on the socket the host named."""
    default_cog.serve()
