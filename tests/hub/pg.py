"""A real PostgreSQL server for tests and the bench, from Debian's packages.

initdb in a fresh temporary folder, the server listening only on a Unix
socket in that folder (no TCP port to collide with), trust auth for the one
local user.  initdb refuses to run as root (CI runs as root), so as root the
folder is given to the ``postgres`` system user and the tools run as that user
through ``runuser``.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return Path(found[-1]).parent if found else None


@dataclass
class PgServer:
    bindir: Path
    root: Path
    user: str
    as_user: list[str]

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self.as_user, *args], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.root / "data"), "-U", self.user,
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        opts = (f"-k {self.socket_dir} -c listen_addresses='' -c fsync=on "
                f"-c max_connections=200 -c shared_buffers=128MB")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-l",
                  str(self.root / "log"), "-o", opts, "-w", "start")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "-w", "stop"], timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{db}?host={self.socket_dir}"

    def new_database(self, template: str = "template1") -> str:
        """A fresh database copied from ``template``; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)


def start_server() -> PgServer:
    bindir = pg_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL is not installed (/usr/lib/postgresql/*/bin)")
    root = Path(tempfile.mkdtemp(prefix="hub-pg-", dir="/tmp"))
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, root / "sock"):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        server = PgServer(bindir, root, "postgres", ["runuser", "-u", "postgres", "--"])
    else:
        server = PgServer(bindir, root, pwd.getpwuid(os.geteuid()).pw_name, [])
    os.chmod(root, 0o755)
    server.start()
    deadline = time.monotonic() + 30
    while not (root / "sock" / ".s.PGSQL.5432").exists():
        if time.monotonic() > deadline:
            raise RuntimeError((root / "log").read_text() if (root / "log").exists() else "no log")
        time.sleep(0.05)
    return server
