"""The local web server of ``loyaltylab app``: Solara's app on uvicorn.

The socket is bound here, before the server starts, so that a port in use is the
command line's one-line error (exit code 2) rather than a log message; the server then
serves on that very socket. Solara is set up to load nothing from the network (its
front-end files come from the ``solara-assets`` package, its install check and its
usage statistics are off), so the workbench works on a computer without internet.
By default it listens on 127.0.0.1 only: other computers cannot reach it.
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path

from loyaltylab.errors import InputError, MissingDependencyError

#: Where the workbench listens unless told otherwise: this computer only.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

#: Solara's settings for the workbench (environment variables read when Solara is
#: imported): production mode (no install check calling home, no hot reload), no usage
#: statistics, no "runs on Solara" banner, the page's title.
SOLARA_SETTINGS = {
    "SOLARA_MODE": "production",
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_TITLE": "loyaltylab workbench",
    "SOLARA_APP": "loyaltylab.app.pages",
}


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port); raise
    :class:`~loyaltylab.errors.InputError` naming the option when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host: cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = "in use" if exc.errno in (98, 48, 10048) else exc.strerror
        raise InputError(f"--port: cannot listen on {host}:{port}: {reason}") from None
    sock.listen(128)
    return sock


def url(sock: socket.socket) -> str:
    """The workbench's address for a browser."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(sock: socket.socket, results: Path) -> None:
    """Serve the workbench on the bound ``sock`` until interrupted, with runs written
    under ``results``; running jobs are cancelled when the server stops."""
    os.environ.update(SOLARA_SETTINGS)
    os.environ["LOYALTYLAB_APP_RESULTS"] = str(results)
    try:
        import solara.server.starlette  # noqa: F401  (the app uvicorn serves)
        import uvicorn
    except ImportError:
        raise MissingDependencyError("app: needs the optional extra: "
                                     "pip install 'loyaltylab[app]'") from None
    from loyaltylab.app.jobs import cancel_all

    # Solara warns, on every page, that a session cookie over http cannot be used in a
    # page embedded from another site; the workbench is not embedded.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none",
                            category=UserWarning)
    config = uvicorn.Config("solara.server.starlette:app", log_level="warning",
                            lifespan="on", ws_max_size=64 * 2**20)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        cancel_all()
        sock.close()
