#!/usr/bin/env python3
"""A scripted HTTP/1.1 server for exportwatch's tests, on a loopback address.

Usage: scripted_http_server.py --host 127.0.0.1 --script SCRIPT.json --log LOG.jsonl

SCRIPT maps a path to a list of responses served in turn (the last one repeats):
  {"status": 200, "headers": {"ETag": "\"v1\""}, "body": "text", "body_file": "path",
   "body_size": 1000, "gzip": true, "delay": 0.5, "hang": true,
   "if_none_match": "\"v1\"" }   # answer 304 instead when the request carries this validator
"{port}" in a header value becomes the server's own port. The script file is re-read on
every request, so a test can change it between polls. Every request is appended to LOG as
one JSON line just before its answer is sent (so a client that has its answer finds it
logged): method, path, headers, the number of requests in flight when it arrived, and the
times it arrived and was answered. The chosen port is printed on the first line. The server
exits when the process that started it is gone, so a test run that crashed leaves none behind.

POST requests are scripted the same way; their log lines add the body and, when
VERIFY.json sits beside the script ({"standard": ["whsec_…", …], "hub": "secret"}), whether
the request's signatures verify: per Standard Webhooks secret with the `standardwebhooks`
package (an implementation that is not exportwatch's), and the `X-Hub-Signature-256` header
with Python's hmac.
"""
import hashlib
import hmac
import argparse
import gzip
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
in_flight = 0
served = {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--script", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    # A receiver that checks Standard Webhooks signatures needs the package before it starts:
    # missing, it would fail inside each request, and the test would see only requests that
    # never arrived.
    verify_path = os.path.join(os.path.dirname(args.script), "verify.json")
    if os.path.exists(verify_path):
        with open(verify_path) as f:
            if json.load(f).get("standard"):
                try:
                    import standardwebhooks  # noqa: F401
                except ImportError:
                    sys.exit("this webhook receiver checks signatures with Python's standardwebhooks package, "
                             "which is missing: scripts/test installs it (pip install standardwebhooks)")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_POST(self):
            self.do_GET(method="POST")

        def verify(self, body):
            path = os.path.join(os.path.dirname(args.script), "verify.json")
            if not os.path.exists(path):
                return None
            with open(path) as f:
                secrets = json.load(f)
            result = {"standard": [], "hub": None}
            headers = {k.lower(): v for k, v in self.headers.items()}
            for secret in secrets.get("standard", []):
                from standardwebhooks.webhooks import Webhook
                try:
                    Webhook(secret).verify(body, headers)
                    result["standard"].append(True)
                except Exception:
                    result["standard"].append(False)
            if secrets.get("hub") is not None:
                expected = "sha256=" + hmac.new(secrets["hub"].encode(), body, hashlib.sha256).hexdigest()
                result["hub"] = hmac.compare_digest(expected, headers.get("x-hub-signature-256", ""))
            return result

        def do_GET(self, method="GET"):
            global in_flight
            arrived = time.time()
            body = b""
            if method == "POST":
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            verified = self.verify(body) if method == "POST" else None
            with lock:
                in_flight += 1
                concurrent = in_flight
                with open(args.script) as f:
                    script = json.load(f)
                sequence = script.get(self.path.split("?")[0]) or [{"status": 404, "body": "not scripted"}]
                index = served.get(self.path, 0)
                served[self.path] = index + 1
                response = sequence[min(index, len(sequence) - 1)]
            entry = {"method": method, "path": self.path, "headers": dict(self.headers.items()),
                     "concurrent": concurrent, "arrived": arrived}
            if method == "POST":
                entry["body"] = body.decode("utf-8", "replace")
                entry["verified"] = verified
            try:
                self.answer(response, entry)
            finally:
                with lock:
                    in_flight -= 1

        def log(self, entry):
            entry["answered"] = time.time()
            with lock:
                with open(args.log, "a") as f:
                    f.write(json.dumps(entry) + "\n")

        def answer(self, response, entry):
            if response.get("hang"):
                time.sleep(3600)
            time.sleep(response.get("delay", 0))
            status = response.get("status", 200)
            body = response.get("body", "").encode()
            if "body_file" in response:
                with open(os.path.join(os.path.dirname(args.script), response["body_file"]), "rb") as f:
                    body = f.read()
            if "body_size" in response:
                body = (b"x" * 1023 + b"\n") * (response["body_size"] // 1024) + b"x" * (response["body_size"] % 1024)
            headers = {k: v.replace("{port}", str(self.server.server_port)) for k, v in response.get("headers", {}).items()}
            validator = response.get("if_none_match")
            if validator and self.headers.get("If-None-Match") == validator:
                status, body = 304, b""
            if response.get("gzip") and status != 304:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            self.log(entry)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    parent = os.getppid()

    def exit_when_orphaned():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=exit_when_orphaned, daemon=True).start()
    server = ThreadingHTTPServer((args.host, 0), Handler)
    server.daemon_threads = True
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
