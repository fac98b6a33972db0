#!/usr/bin/env python3
"""A stand-in for Firebase Cloud Messaging's HTTP v1 API and Google's OAuth2 token endpoint, on 127.0.0.1.

Usage: fcm_peer.py
Generates a service account (an RSA key), prints {"port": N, "service_account": {...}} once listening, then one JSON
line per message accepted: {"token", "title", "body", "data"}. The token endpoint checks the RS256 assertion as
Google does (signature, iss, aud, scope, expiry) and hands out access tokens that the send endpoint requires.
Device tokens starting with "gone-" answer 404 UNREGISTERED. Runs until its standard input closes.
"""
import base64
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PROJECT = "guildhall-test"
EMAIL = "push@guildhall-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
issued = set()


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/token":
            self.token(urllib.parse.parse_qs(body.decode()))
        elif self.path == f"/v1/projects/{PROJECT}/messages:send":
            self.send_message(json.loads(body))
        else:
            self.answer(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": self.path}})

    def token(self, form):
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.answer(400, {"error": "unsupported_grant_type"})
        try:
            header, claims, signature = form["assertion"][0].split(".")
            key.public_key().verify(
                b64decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(b64decode(claims))
            assert json.loads(b64decode(header))["alg"] == "RS256"
        except (KeyError, ValueError, AssertionError, InvalidSignature):
            return self.answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        audience = claims.get("aud")
        audience = audience[0] if isinstance(audience, list) else audience
        expected_audience = f"http://127.0.0.1:{self.server.server_port}/token"
        if claims.get("iss") != EMAIL or audience != expected_audience or claims.get("scope") != SCOPE \
                or claims.get("exp", 0) < time.time():
            return self.answer(400, {"error": "invalid_grant", "error_description": f"bad claims {claims}"})
        access = "ya29.fake-" + secrets.token_hex(8)
        issued.add(access)
        self.answer(200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"})

    def send_message(self, body):
        if self.headers.get("Authorization", "")[len("Bearer "):] not in issued:
            return self.answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        message = body["message"]
        if message["token"].startswith("gone-"):
            return self.answer(404, {"error": {
                "code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})
        print(json.dumps({
            "token": message["token"], "title": message["notification"]["title"],
            "body": message["notification"]["body"], "data": message.get("data", {})}), flush=True)
        self.answer(200, {"name": f"projects/{PROJECT}/messages/{secrets.token_hex(6)}"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port = server.server_port
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"port": port, "service_account": {
    "type": "service_account", "project_id": PROJECT, "client_email": EMAIL, "private_key": pem,
    "token_uri": f"http://127.0.0.1:{port}/token"}}), flush=True)
sys.stdin.read()
server.shutdown()
