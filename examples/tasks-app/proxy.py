"""The stable endpoint of one environment: forwards every request to the current release.

The upstream (a container name on the environment's Docker network) is kept in a file and read
for each request, so `python3 proxy.py --set NAME` switches traffic atomically (the file is
replaced in one rename): a request goes wholly to the old release or wholly to the new one.
"""

import os
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from app import serve  # noqa: E402

UPSTREAM_FILE = os.environ.get("UPSTREAM_FILE", "/tmp/upstream")
UPSTREAM_PORT = int(os.environ.get("UPSTREAM_PORT", "8000"))


def upstream():
    try:
        with open(UPSTREAM_FILE) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def set_upstream(name, path=UPSTREAM_FILE):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(name + "\n")
    os.replace(tmp, path)


def forward(path, host, timeout=5):
    """(status, content type, body) of a GET of `path` on `host` (`name` or `name:port`); 502 when
    it cannot answer."""
    if not host:
        return 503, "text/plain", b"no release is deployed here yet\n"
    address = host if ":" in host else "%s:%d" % (host, UPSTREAM_PORT)
    url = "http://%s%s" % (address, path)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", "application/octet-stream"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", "text/plain"), e.read()
    except (urllib.error.URLError, OSError) as e:
        return 502, "text/plain", ("upstream %s does not answer: %s\n" % (host, e)).encode()


class Handler(BaseHTTPRequestHandler):
    server_version = "tasks-proxy"

    def do_GET(self):
        status, content_type, body = forward(self.path, upstream())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main(argv):
    if len(argv) == 3 and argv[1] == "--set":
        set_upstream(argv[2])
        return 0
    if len(argv) == 2 and argv[1] == "--get":
        print(upstream())
        return 0
    if len(argv) != 1:
        print("usage: proxy.py [--set UPSTREAM | --get]", file=sys.stderr)
        return 2
    port = int(os.environ.get("PORT", "8000"))
    print("tasks-proxy listening on :%d, upstream %r" % (port, upstream()), flush=True)
    serve(ThreadingHTTPServer(("0.0.0.0", port), Handler))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
