"""gunicorn settings, read automatically from the working directory (``gunicorn config.wsgi``).

Request-line and header limits are raised to gunicorn's maximum so that long URLs and large
headers reach Django, which answers under /api/ in the API's JSON error shape (a 5,000-character
query is an ordinary JSON answer, not gunicorn's own 414 page). Beyond these maximums (request
line 8190 bytes, one header 16380 bytes, 100 headers) gunicorn itself answers 414/431 with a
small HTML page before Django sees the request: that cannot be JSON. The reverse proxy in front
should refuse earlier (e.g. nginx large_client_header_buffers), with its own 414/431.
"""

limit_request_line = 8190
limit_request_field_size = 16380
limit_request_fields = 100

# The access log (when enabled with --access-logfile) records the path without the query string:
# a refused ?api_key=… must never be written in plain text.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s'


def worker_exit(server: object, worker: object) -> None:
    """A worker leaving gracefully (restart, scale-down) first writes the ledger rows it still holds.

    Only a worker that imported the ledger writer can hold any; importing it here would set Django
    up in a worker that never did.
    """
    import sys

    writer = sys.modules.get("apps.usage.writer")
    if writer is not None:
        writer.ledger_writer_flush()
