"""A throwaway PostgreSQL server for the test run: initdb in a temp folder, loopback only."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.loopback import free_port


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def _runner() -> list[str]:
    # PostgreSQL refuses to run as root; the Debian package provides the postgres user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@contextmanager
def postgres_server(*, fsync: bool = False) -> Iterator[str]:
    """Start a server, yield an SQLAlchemy URL to a fresh database, stop and delete it after.

    Tests run without fsync (nothing must survive the machine); a benchmark asks for it."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL server is not installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="yehua-pg-"))
    data, sockets = base / "data", base / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    run = _runner()
    subprocess.run([*run, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-locale"],
                   check=True, capture_output=True)
    subprocess.run([*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l",
                    str(base / "log"), "-o",
                    f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
                    + ("" if fsync else " -c fsync=off"),
                    "start"], check=True, capture_output=True)
    try:
        subprocess.run([*run, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                        "-U", "postgres", "yehua"], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/yehua"
    finally:
        subprocess.run([*run, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def fresh_database(server_url: str, prefix: str = "t") -> str:
    """A new, empty database on the server (its SQLAlchemy URL): each user starts from nothing."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"
