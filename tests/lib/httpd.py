#!/usr/bin/env python3
"""HTTP server for download tests: serves a directory on 127.0.0.1 and
injects faults chosen by a prefix of the URL path.

    /FILE                   FILE, honouring Range (206, or 416 past the end)
    /status/CODE/REST       always returns CODE
    /fail/CODE/N/REST       returns CODE to the first N requests of this
                            exact path, then serves REST
    /truncate/REST          announces the full Content-Length, sends half of
                            the body and closes the connection
    /truncate-once/REST     like /truncate/ for the first request of this
                            exact path, then serves REST
    /slow/REST              sends the headers, then stalls for 60 s
    /redirect/N/REST        N redirects (302) in a row, then REST
    /html/REST              200 with an HTML error page in place of REST
    /norange/REST           ignores Range and returns 200 with the whole file

Prefixes nest (/fail/503/1/norange/FILE). The server prints its port on
stdout once it listens, appends "METHOD PATH RANGE" per request to the
--log file (RANGE is the Range header or "-"), and exits when its standard
input reaches end of file, so it never outlives the test that started it.
"""
import argparse
import http.server
import os
import socket
import sys
import threading
import time

counters = {}
counters_lock = threading.Lock()
log_lock = threading.Lock()


def count_request(path):
    """Return how many requests for path came before this one."""
    with counters_lock:
        seen = counters.get(path, 0)
        counters[path] = seen + 1
    return seen


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "repack-test-httpd"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with log_lock, open(self.server.log_path, "a") as log:
            log.write("GET %s %s\n" % (self.path, self.headers.get("Range", "-")))
        self.dispatch(self.path.split("?", 1)[0])

    def dispatch(self, path):
        parts = path.lstrip("/").split("/")
        mode = parts[0]
        if mode == "status" and len(parts) > 2:
            self.send_error_page(int(parts[1]))
        elif mode == "fail" and len(parts) > 3:
            if count_request(self.path) < int(parts[2]):
                self.send_error_page(int(parts[1]))
            else:
                self.dispatch("/" + "/".join(parts[3:]))
        elif mode == "truncate" and len(parts) > 1:
            self.serve_file("/".join(parts[1:]), truncate=True)
        elif mode == "truncate-once" and len(parts) > 1:
            first = count_request(self.path) == 0
            self.serve_file("/".join(parts[1:]), truncate=first)
        elif mode == "slow" and len(parts) > 1:
            self.serve_file("/".join(parts[1:]), stall=True)
        elif mode == "redirect" and len(parts) > 2:
            hops = int(parts[1])
            rest = "/".join(parts[2:])
            if hops == 0:
                self.dispatch("/" + rest)
                return
            target = "/redirect/%d/%s" % (hops - 1, rest) if hops > 1 else "/" + rest
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "html" and len(parts) > 1:
            body = b"<!DOCTYPE html>\n<html><body><h1>Mirror under maintenance</h1></body></html>\n"
            self.send_body(200, body, "text/html")
        elif mode == "norange" and len(parts) > 1:
            self.serve_file("/".join(parts[1:]), ranges=False)
        else:
            self.serve_file(path.lstrip("/"))

    def send_body(self, code, body, content_type="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error_page(self, code):
        self.send_body(code, b"error %d\n" % code)

    def parse_range(self, size):
        """Return (start, end) of a single "bytes=" range, None without one."""
        value = self.headers.get("Range")
        if not value or not value.startswith("bytes="):
            return None
        first, _, last = value[6:].partition("-")
        start = int(first) if first else 0
        end = int(last) if last else size - 1
        return start, min(end, size - 1)

    def serve_file(self, name, truncate=False, stall=False, ranges=True):
        root = os.path.realpath(self.server.root)
        path = os.path.realpath(os.path.join(root, name))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            self.send_error_page(404)
            return
        with open(path, "rb") as f:
            data = f.read()

        code, start, end = 200, 0, len(data) - 1
        wanted = self.parse_range(len(data)) if ranges else None
        if wanted and wanted[0] >= len(data):
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % len(data))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if wanted:
            code, (start, end) = 206, wanted
        body = data[start:end + 1]

        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        self.end_headers()
        if truncate or stall:
            self.wfile.write(b"" if stall else body[:len(body) // 2])
            self.wfile.flush()
            if stall:
                time.sleep(60)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that hang up are part of the tests, not server errors.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def exit_on_stdin_eof():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="directory to serve")
    parser.add_argument("--log", required=True, help="request log to append to")
    parser.add_argument("--port", type=int, default=0, help="port, 0 for any free one")
    args = parser.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.root = args.root
    server.log_path = args.log
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    sys.stdout.write("%d\n" % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
