#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the Swift tests.

Usage: smtp_peer.py [USERNAME PASSWORD]
Prints {"port": N} once listening, then one JSON line per message accepted:
{"mail_from", "rcpt_tos", "data"}. With credentials, AUTH PLAIN is required and checked (over plain TCP, as a
relay on the loopback interface would allow). Runs until its standard input closes (so it never outlives the
test process).
"""
import json
import socket
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

credentials = (sys.argv[1], sys.argv[2]) if len(sys.argv) > 2 else None


class Printer:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 Message accepted"


def authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == credentials:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
options = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False} if credentials else {}
controller = Controller(Printer(), hostname="127.0.0.1", port=port, **options)
controller.start()
print(json.dumps({"port": port}), flush=True)
sys.stdin.read()
controller.stop()
