"""gunicorn settings: `gunicorn -c gunicorn.conf.py "gradebook:create_app()"`.

Each worker, once the app is loaded, collects and then freezes what start-up allocated (modules, templates,
the app), so the garbage collector never walks those objects again: its pauses stay out of the requests'
latency tail. Gzip belongs to the proxy in front (e.g. nginx `gzip on; gzip_types text/html text/css
application/javascript;`), not to this process."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    gc.collect()
    gc.freeze()
