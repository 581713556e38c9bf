"""gunicorn settings: `gunicorn -c gunicorn.conf.py "gradebook:create_app()"`.

Each worker, once the app is loaded, collects and then freezes what start-up allocated (modules, templates,
the app), so the garbage collector never walks those objects again: its pauses stay out of the requests'
latency tail. Gzip belongs to the proxy in front (e.g. nginx `gzip on; gzip_types text/html text/css
application/javascript;`), not to this process."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads per worker: a request waiting on the database (a PostgreSQL COMMIT waits for its WAL to reach the
# disk) leaves the worker free to run another one; kept-alive connections wait in the worker's poller, not in
# a thread. "sync" (GUNICORN_THREADS=1) runs one request at a time per worker.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    _compile_templates(worker.wsgi)
    gc.collect()
    gc.freeze()


def _compile_templates(app):  # type: ignore[no-untyped-def]
    """Every template compiled before the first request (not by the first grid or save of each worker, a few
    hundred milliseconds of a teacher's wait), and then frozen with the rest of start-up."""
    env = getattr(app, "jinja_env", None)
    if env is None:  # not the Flask app (a benchmark's bare WSGI floor)
        return
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".xml", ".css", ".js"))):
        try:
            env.get_template(name)
        except Exception:  # noqa: BLE001 - one that does not compile alone fails as before, on its request
            continue
