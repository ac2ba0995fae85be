"""A token service for Debian's docker-registry, for tests on 127.0.0.1.

It serves GET /token?service=S&scope=repository:NAME:ACTIONS... as the
distribution token specification describes. With valid Basic credentials
it grants the requested pull and push actions, without credentials it
grants nothing, and with wrong ones it responds 401. Tokens
are JWTs signed RS256 by `openssl dgst -sign` with the key whose
certificate the registry's auth.token.rootcertbundle holds; the
certificate travels in the x5c header.

Each request is logged as one line: the requested scopes, the user (or
"anonymous") and the response status. Passwords are never logged.

usage: registry-token.py PORT KEY CERT ISSUER SERVICE USER PASSWORD LOG
"""

import base64
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, KEY, CERT, ISSUER, SERVICE, USER, PASSWORD, LOG = sys.argv[1:9]
TOKEN_SECONDS = 300
log_lock = threading.Lock()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def certificate_der():
    pem = open(CERT).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()))


CERT_DER_B64 = base64.b64encode(certificate_der()).decode()


def sign(message):
    result = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY],
                            input=message, capture_output=True, check=True)
    return result.stdout


def make_token(user, access):
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5c": [CERT_DER_B64]}
    claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "iat": now,
              "nbf": now - 10, "exp": now + TOKEN_SECONDS,
              "jti": b64url(os.urandom(12)), "access": access}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode())).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


def requested_access(scopes):
    access = []
    for scope in scopes:
        for item in scope.split(" "):
            parts = item.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            actions = [a for a in parts[-1].split(",") if a in ("pull", "push")]
            access.append({"type": "repository", "name": ":".join(parts[1:-1]),
                           "actions": actions})
    return access


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, user, scopes, status):
        with log_lock, open(LOG, "a") as f:
            f.write("user=%s scopes=%s status=%d\n" % (user, ",".join(scopes) or "-", status))

    def answer(self, status, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def credentials(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", ""
        return user, password

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        scopes = query.get("scope", [])
        if url.path != "/token":
            self.answer(404, {"error": "not found"})
            return
        user, password = self.credentials()
        if user is not None and (user != USER or password != PASSWORD):
            self.record(user or "?", scopes, 401)
            self.answer(401, {"errors": [{"code": "UNAUTHORIZED",
                                          "message": "invalid user name or password"}]},
                        {"WWW-Authenticate": 'Basic realm="repack-test-token"'})
            return
        access = requested_access(scopes) if user else []
        token = make_token(user or "", access)
        self.record(user or "anonymous", scopes, 200)
        self.answer(200, {"token": token, "access_token": token,
                          "expires_in": TOKEN_SECONDS})


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
