"""A throwaway PostgreSQL cluster in a folder, for a Prefect server in tests and benchmarks.

`PostgresCluster(folder)` runs Debian's `initdb` into `folder/data`, starts it with `pg_ctl` on a
free 127.0.0.1 port (trust authentication, unix socket in `folder/socket`, log in
`folder/postgres.log`), creates the database `prefect` and stops it with `pg_ctl stop -m fast`.
It only ever stops the cluster it started. PostgreSQL refuses to run as root, so under root the
server programs run as Debian's `postgres` system user, which then owns the folder.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

from campaigns.errors import CampaignError
from campaigns.local_stack import free_port

DEBIAN_ROOT = Path("/usr/lib/postgresql")
APT_PACKAGE = "postgresql"
SUPERUSER = "postgres"
DATABASE = "prefect"
SYSTEM_USER = "postgres"  # created by Debian's package; runs the server when we are root


class PostgresNotInstalled(CampaignError):
    """No PostgreSQL server programs (initdb, pg_ctl) were found on this machine."""


def find_bindir() -> Path:
    """The folder of the newest installed `initdb` and `pg_ctl`, or PostgresNotInstalled."""
    candidates = [p for p in DEBIAN_ROOT.glob("*/bin") if re.fullmatch(r"\d+", p.parent.name)]
    for bindir in sorted(candidates, key=lambda p: int(p.parent.name), reverse=True):
        if _has_server(bindir):
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run(  # noqa: S603
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and _has_server(bindir):
            return bindir
    raise PostgresNotInstalled(
        f"PostgreSQL is not installed: no initdb and pg_ctl in {DEBIAN_ROOT}/<version>/bin or "
        f"in `pg_config --bindir`. Install Debian's package: apt-get install {APT_PACKAGE}."
    )


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


class PostgresCluster:
    """Start with `start()`, stop with `stop()` (or use as a context manager)."""

    def __init__(self, folder: Path, bindir: Path | None = None) -> None:
        self.folder = Path(folder).resolve()
        self.bindir = bindir
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.log_path = self.folder / "postgres.log"
        self.port = 0
        self._running = False

    @property
    def url(self) -> str:
        """The `prefect` database as PREFECT_SERVER_DATABASE_CONNECTION_URL wants it."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Create the cluster, start it on a free port and create the `prefect` database."""
        self.bindir = bindir = self.bindir or find_bindir()
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._hand_folder_to_system_user()
        initdb = [str(bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER]
        self._run(
            [*initdb, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
            as_server_user=True,
        )
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.socket_dir, SYSTEM_USER, SYSTEM_USER)
        self.port = free_port()
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
            )
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path)]
        self._run([*pg_ctl, "-w", "-t", "60", "start"], as_server_user=True)
        self._running = True
        atexit.register(self.stop)
        try:
            createdb = [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)]
            self._run([*createdb, "-U", SUPERUSER, DATABASE], as_server_user=False)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the cluster this object started (fast shutdown); do nothing if it is not running."""
        if not self._running:
            return
        self._running = False
        atexit.unregister(self.stop)
        pg_ctl = str((self.bindir or find_bindir()) / "pg_ctl")
        self._run([pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"], as_server_user=True)

    def _hand_folder_to_system_user(self) -> None:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresNotInstalled(
                f"PostgreSQL refuses to run as root and the `{SYSTEM_USER}` system user is "
                f"missing; install Debian's package: apt-get install {APT_PACKAGE}."
            ) from None
        shutil.chown(self.folder, SYSTEM_USER, SYSTEM_USER)
        reach = ["runuser", "-u", SYSTEM_USER, "--", "test", "-w", str(self.folder)]
        if subprocess.run(reach, check=False).returncode != 0:  # noqa: S603
            raise CampaignError(
                f"The {SYSTEM_USER} user cannot reach {self.folder}; as root, put the cluster "
                "in a folder whose parents every user may enter (a new folder under /tmp)."
            )

    def _run(self, command: list[str], *, as_server_user: bool) -> None:
        if as_server_user and os.geteuid() == 0:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        result = subprocess.run(  # noqa: S603 - explicit argument list, our own paths
            command, cwd="/", capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise CampaignError(
                f"`{' '.join(command)}` failed with exit status {result.returncode}; "
                f"see {self.log_path} if the server started.\n{result.stdout}{result.stderr}"
            )
