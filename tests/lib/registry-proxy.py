"""A fault-injecting HTTP proxy in front of a registry, for tests on
127.0.0.1.

Requests are forwarded to the registry with their Host header unchanged,
so the upload URLs the registry builds point back at the proxy. The rules
file (JSON, read again whenever it changes) picks requests to break:

  [{"method": "PATCH", "path": "/blobs/uploads/", "skip": 2, "times": -1,
    "action": "status", "status": 500}]

A rule matches a request by method and by a substring of the path. It
lets the first "skip" matches through, then applies its action to the
next "times" matches (-1: to all). Actions:
  status  respond with "status" and an OCI error document, forward nothing
  drop    close the connection without a response, forward nothing
  cut     forward the headers and half the body, then close both sides

Every request is logged as one line: METHOD PATH range=CONTENT-RANGE
action=ACTION status=STATUS, where PATH keeps its query.

usage: registry-proxy.py PORT TARGET_PORT RULES LOG
"""

import http.client
import json
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, TARGET_PORT, RULES, LOG = sys.argv[1:5]
lock = threading.Lock()
state = {"mtime": None, "rules": [], "seen": []}
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def current_rules():
    try:
        mtime = os.stat(RULES).st_mtime_ns
    except FileNotFoundError:
        mtime = None
    if mtime != state["mtime"]:
        state["mtime"] = mtime
        state["rules"] = json.load(open(RULES)) if mtime else []
        state["seen"] = [0] * len(state["rules"])
    return state["rules"]


def choose_action(method, path):
    with lock:
        for i, rule in enumerate(current_rules()):
            if rule.get("method", method) != method or rule.get("path", "") not in path:
                continue
            state["seen"][i] += 1
            n = state["seen"][i] - rule.get("skip", 0)
            times = rule.get("times", -1)
            if n >= 1 and (times < 0 or n <= times):
                return rule
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, action, status):
        with lock, open(LOG, "a") as f:
            f.write("%s %s range=%s action=%s status=%s\n" % (
                self.command, self.path,
                self.headers.get("Content-Range", "-"), action, status))

    def read_body(self):
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length else b""

    def cut(self, body):
        """Send the request line, the headers and half the body, then hang up."""
        upstream = socket.create_connection(("127.0.0.1", int(TARGET_PORT)))
        head = "%s %s HTTP/1.1\r\n" % (self.command, self.path)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in self.headers.items())
        upstream.sendall(head.encode() + b"\r\n" + body[:len(body) // 2])
        upstream.close()
        self.close_connection = True

    def forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", int(TARGET_PORT), timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        # Repeated headers (skopeo sends one Accept line per media type)
        # are forwarded one by one.
        for name, value in self.headers.items():
            if name.lower() not in HOP_HEADERS:
                conn.putheader(name, value)
        if body or self.command in ("PUT", "PATCH", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response_only(resp.status, resp.reason)
        for name, value in resp.getheaders():
            if name.lower() not in HOP_HEADERS:
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        return resp.status

    def handle_any(self):
        body = self.read_body()
        rule = choose_action(self.command, self.path)
        action = rule["action"] if rule else "forward"
        if action == "status":
            status = rule.get("status", 500)
            data = json.dumps({"errors": [{"code": "UNKNOWN",
                                           "message": "injected failure"}]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif action == "drop":
            self.close_connection = True
            status = "-"
        elif action == "cut":
            self.cut(body)
            status = "-"
        else:
            status = self.forward(body)
        self.record(action, status)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
