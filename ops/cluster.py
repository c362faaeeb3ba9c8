"""A scaled-out Toolkit Advisor on this machine: what `make cluster` runs, and the cluster tests.

On loopback only, each on a free port, under one temporary folder:

- PostgreSQL (the tracker store: every conversation's events), its own data
  directory made with ``initdb``, password authentication;
- Redis (the lock store: one turn of a conversation at a time, whichever
  instance receives it), no persistence - locks are transient;
- one action server (``python -m actions``, stateless);
- two Rasa servers (``rasa run``), identical, sharing PostgreSQL and Redis
  through environment variables only (TRACKER_STORE_URL, LOCK_STORE_URL) -
  the same ``endpoints.yml`` as ``make run``;
- nginx in front, round-robin over the Rasa servers (socket.io sticky by
  client address, which Engine.IO's long-polling needs).

It is the Kubernetes set-up of ``deploy/`` in miniature (see README): the
Rasa servers are the chart's replicas, nginx the Service/Ingress, PostgreSQL
and Redis the managed databases. Debian's ``postgresql``, ``redis-server`` and
``nginx`` are installed with apt when missing. As root, the three daemons run
as the ``postgres`` system user (PostgreSQL refuses to run as root, and the
others need no privileges either).

    python -m ops.cluster            # start, print the URL, Ctrl-C stops everything
    python -m ops.cluster --dir D    # keep the data in D (reused by the next run)
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ops.stack import DEFAULT_MODEL, Process, Stack, StartError, _tail, auth_token, free_port, http_get

APT_PACKAGES = ("postgresql", "redis-server", "nginx")
SERVICE_USER = "postgres"  # Debian's postgresql package creates it
DB_NAME = "conversations"
DB_USER = "rasa"


def postgres_bin() -> Optional[Path]:
    """Debian installs PostgreSQL's server binaries under /usr/lib/postgresql/<version>/bin."""

    def version(path: str) -> int:
        number = Path(path).parts[4]
        return int(number) if number.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=version)
    return Path(found[-1]).parent if found else None


def missing_packages() -> list[str]:
    missing = []
    if postgres_bin() is None:
        missing.append("postgresql")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing.append("nginx")
    return missing


def ensure_packages() -> None:
    """Install Debian's postgresql, redis-server and nginx with apt when one is missing."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() == 0:
        apt = ["apt-get"]
    elif shutil.which("sudo"):
        apt = ["sudo", "apt-get"]
    else:
        raise StartError(f"missing {', '.join(missing)}: install them with apt-get (as root) first")
    print(f"Installing {' '.join(missing)} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*apt, "update", "-qq"], check=True, env=env)
    # policy-rc.d may stop the packages' own services from starting; we start our own anyway.
    subprocess.run([*apt, "install", "-y", "-qq", *missing], check=True, env=env)
    if missing_packages():
        raise StartError(f"still missing after apt-get: {', '.join(missing_packages())}")


def nginx_bin() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Cluster:
    """PostgreSQL, Redis, an action server, N Rasa servers and nginx; restartable on the same data."""

    base: Path
    model: Path = DEFAULT_MODEL
    token: str = ""
    instances: int = 2
    log_dir: Optional[Path] = None
    # TICKET_LOCK_LIFETIME: how long a killed Rasa server can hold a conversation. Shorter
    # than Rasa's 60 s so that a crash (and the crash test) recovers quickly; it must stay
    # above the slowest turn, which the action endpoint's 10 s timeout bounds.
    lock_lifetime: int = 15
    extra_env: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.base = Path(self.base)
        self.log_dir = Path(self.log_dir or self.base / "logs")
        self.settings = self._load_settings()
        self.daemons: dict[str, Process] = {}
        self.actions: Optional[Stack] = None
        self.rasa: list[Stack] = []

    # -- settings kept in the folder, so that a restart (or a later run on --dir) finds its data

    def _load_settings(self) -> dict:
        """Passwords are kept with the data (PostgreSQL's is in its data directory); ports are fresh per run."""
        path = self.base / "cluster.json"
        settings = json.loads(path.read_text()) if path.exists() else {}
        settings.setdefault("pg_password", secrets.token_urlsafe(18))
        settings.setdefault("redis_password", secrets.token_urlsafe(18))
        ports = {name: free_port() for name in ("postgres", "redis", "actions", "balancer")}
        ports["rasa"] = [free_port() for _ in range(self.instances)]
        settings["ports"] = ports
        self.base.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2))
        path.chmod(0o600)
        return settings

    @property
    def ports(self) -> dict:
        return self.settings["ports"]

    @property
    def url(self) -> str:
        """The load balancer."""
        return f"http://{self.host}:{self.ports['balancer']}"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://{self.host}:{port}" for port in self.ports["rasa"]]

    @property
    def tracker_store_url(self) -> str:
        return f"postgresql://{DB_USER}@{self.host}:{self.ports['postgres']}/{DB_NAME}"

    @property
    def lock_store_url(self) -> str:
        return f"redis://{self.host}:{self.ports['redis']}/1"

    def rasa_env(self) -> dict[str, str]:
        """The environment that makes a Rasa server part of this cluster - nothing else differs from `make run`."""
        return {
            "TRACKER_STORE_URL": self.tracker_store_url,
            "TRACKER_STORE_PASSWORD": self.settings["pg_password"],
            "LOCK_STORE_URL": self.lock_store_url,
            "LOCK_STORE_PASSWORD": self.settings["redis_password"],
            "TICKET_LOCK_LIFETIME": str(self.lock_lifetime),
            **self.extra_env,
        }

    # -- running the daemons as an unprivileged user

    def _service_user(self) -> Optional[pwd.struct_passwd]:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise StartError(f"running as root needs the {SERVICE_USER!r} user (from Debian's postgresql package)") from None

    def _as_service_user(self, args: list[str]) -> list[str]:
        user = self._service_user()
        if user is None:
            return args
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--", *args]

    def _own_dir(self, path: Path, mode: int = 0o700) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        user = self._service_user()
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)
        path.chmod(mode)
        return path

    def _spawn(self, name: str, args: list[str], env: Optional[dict[str, str]] = None) -> Process:
        assert self.log_dir is not None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - closed by Process.stop()
        popen = subprocess.Popen(args, cwd=self.base, stdout=handle, stderr=subprocess.STDOUT, env=env or dict(os.environ))
        process = Process(name, popen, log, handle)
        self.daemons[name] = process
        return process

    @staticmethod
    def _wait(process: Process, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.alive():
                code = process.popen.returncode
                raise StartError(f"{process.name} exited with code {code} while starting.\n{_tail(process.log)}")
            try:
                if ready():
                    return
            except Exception:  # not ready yet, whatever the reason
                pass
            time.sleep(0.2)
        raise StartError(f"{process.name} did not answer within {timeout:.0f} s.\n{_tail(process.log)}")

    # -- PostgreSQL

    def _pg_connect(self, database: str):
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.ports["postgres"],
            user=DB_USER,
            password=self.settings["pg_password"],
            dbname=database,
            connect_timeout=2,
        )

    def start_postgres(self) -> Process:
        bindir = postgres_bin()
        if bindir is None:
            raise StartError("PostgreSQL's server binaries are missing (apt-get install postgresql)")
        root = self._own_dir(self.base / "postgres", 0o700)
        data = root / "data"
        if not (data / "PG_VERSION").exists():
            pwfile = root / "pwfile"
            pwfile.write_text(self.settings["pg_password"] + "\n")
            user = self._service_user()
            if user is not None:
                os.chown(pwfile, user.pw_uid, user.pw_gid)
            pwfile.chmod(0o600)
            init = subprocess.run(
                self._as_service_user(
                    [str(bindir / "initdb"), "-D", str(data), "-U", DB_USER, f"--pwfile={pwfile}"]
                    + ["--auth=scram-sha-256", "-E", "UTF8", "--no-locale"]
                ),
                capture_output=True,
                text=True,
            )
            pwfile.unlink()
            if init.returncode != 0:
                raise StartError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        args = self._as_service_user(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.ports["postgres"]),
                "-c",
                f"listen_addresses={self.host}",
                "-c",
                "unix_socket_directories=",
            ]
        )
        process = self._spawn("postgres", args)

        def ready() -> bool:
            self._pg_connect("postgres").close()
            return True

        self._wait(process, ready, 60)
        conn = self._pg_connect("postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
                if cur.fetchone() is None:
                    cur.execute(f"CREATE DATABASE {DB_NAME}")
        finally:
            conn.close()
        return process

    def stop_postgres(self) -> None:
        """Fast shutdown (SIGINT): open sessions are cut, committed data is kept."""
        process = self.daemons.pop("postgres", None)
        if process is None:
            return
        if process.alive():
            process.popen.send_signal(signal.SIGINT)
        process.stop(timeout=30)

    # -- Redis

    def start_redis(self) -> Process:
        root = self._own_dir(self.base / "redis", 0o700)
        conf = root / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    f"port {self.ports['redis']}",
                    f"bind {self.host}",
                    "protected-mode yes",
                    f"dir {root}",
                    'save ""',
                    "appendonly no",
                    "daemonize no",
                    'logfile ""',
                    f"requirepass {self.settings['redis_password']}",
                    "",
                ]
            )
        )
        user = self._service_user()
        if user is not None:
            os.chown(conf, user.pw_uid, user.pw_gid)
        conf.chmod(0o600)
        process = self._spawn("redis", self._as_service_user([shutil.which("redis-server") or "redis-server", str(conf)]))

        def ready() -> bool:
            import redis

            password = self.settings["redis_password"]
            client = redis.Redis(host=self.host, port=self.ports["redis"], password=password, socket_timeout=1)
            return bool(client.ping())

        self._wait(process, ready, 30)
        return process

    def stop_redis(self) -> None:
        """Stop Redis (locks are transient: nothing to keep)."""
        process = self.daemons.pop("redis", None)
        if process is not None:
            process.stop()

    # -- nginx

    def nginx_conf(self) -> str:
        servers = "\n".join(f"    server {self.host}:{port} max_fails=1 fail_timeout=5s;" for port in self.ports["rasa"])
        root = self.base / "nginx"
        return f"""# Generated by ops/cluster.py: round-robin over the Rasa servers.
worker_processes 1;
pid {root}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/client_body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;

  upstream rasa {{
{servers}
  }}
  # Engine.IO long-polling keeps its session in one process: one client, one server.
  upstream rasa_socketio {{
    ip_hash;
{servers}
  }}
  map $http_upgrade $connection_upgrade {{
    default upgrade;
    '' close;
  }}
  server {{
    listen {self.host}:{self.ports["balancer"]};
    client_max_body_size 1m;
    proxy_read_timeout 120s;
    # The page's origin check compares Origin with the Host Rasa sees: pass the client's.
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    location /socket.io/ {{
      proxy_pass http://rasa_socketio;
      proxy_http_version 1.1;
      # proxy_set_header here replaces (not extends) the server-level ones: repeat them.
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }}
    location / {{
      # A refused connection moves on to the other server; a POST already sent is never resent.
      proxy_pass http://rasa;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""

    def start_nginx(self) -> Process:
        root = self._own_dir(self.base / "nginx", 0o755)
        conf = root / "nginx.conf"
        conf.write_text(self.nginx_conf())
        args = self._as_service_user([nginx_bin(), "-e", "stderr", "-p", str(root), "-c", str(conf), "-g", "daemon off;"])
        process = self._spawn("nginx", args)
        self._wait(process, lambda: http_get(f"{self.url}/", timeout=2)[0] == 200, 30)
        return process

    # -- the assistant

    def start_actions(self) -> None:
        assert self.log_dir is not None
        log_dir = self.log_dir / "actions"
        # rasa_sdk listens on all interfaces unless SANIC_HOST says otherwise; loopback only here.
        env = {**self.extra_env, "SANIC_HOST": self.host}
        self.actions = Stack(actions_port=self.ports["actions"], host=self.host, log_dir=log_dir, env=env)
        self.actions.start_actions()

    def _rasa_stack(self, index: int) -> Stack:
        assert self.log_dir is not None and self.actions is not None
        return Stack(
            rasa_port=self.ports["rasa"][index],
            actions_port=self.ports["actions"],
            model=self.model,
            token=self.token,
            host=self.host,
            log_dir=self.log_dir / f"rasa-{index + 1}",
            env=self.rasa_env(),
        )

    def start_rasa(self, indexes: Optional[list[int]] = None) -> None:
        """Start Rasa servers in parallel (loading a model takes a while)."""
        indexes = list(range(self.instances)) if indexes is None else indexes
        while len(self.rasa) < self.instances:
            self.rasa.append(self._rasa_stack(len(self.rasa)))
        errors: list[BaseException] = []

        def start(i: int) -> None:
            try:
                self.rasa[i] = self._rasa_stack(i)
                self.rasa[i].start_rasa()
            except BaseException as err:  # reported below
                errors.append(err)

        threads = [threading.Thread(target=start, args=(i,)) for i in indexes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def kill_rasa(self, index: int) -> None:
        """SIGKILL one Rasa server, as a crash would."""
        for process in self.rasa[index].processes:
            process.kill()
        self.rasa[index].stop()

    # -- all together

    def start(self) -> Cluster:
        ensure_packages()
        if not Path(self.model).exists():
            raise StartError(f"no trained model at {self.model}: run `make train` first")
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)  # the service user must reach its directories inside
        try:
            self.start_postgres()
            self.start_redis()
            self.start_actions()
            self.start_rasa()
            self.start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything this cluster started, front to back; the data stays in `base`."""
        nginx = self.daemons.pop("nginx", None)
        if nginx is not None:
            nginx.stop()
        for stack in self.rasa:
            stack.stop()
        if self.actions is not None:
            self.actions.stop()
        self.stop_redis()
        self.stop_postgres()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _print_ready(cluster: Cluster, token: str, generated: bool, keep: bool) -> None:
    print(f"\nToolkit Advisor cluster is ready. Chat with it at {cluster.url}/chat/", flush=True)
    print(f"  Load balancer (nginx, round-robin): {cluster.url}")
    for i, url in enumerate(cluster.rasa_urls, 1):
        print(f"  Rasa server {i}: {url}")
    print(f"  Action server: http://{cluster.host}:{cluster.ports['actions']}/webhook")
    print(f"  Tracker store: {cluster.tracker_store_url} (PostgreSQL)")
    print(f"  Lock store:    {cluster.lock_store_url} (Redis)")
    print(f'  REST channel:  POST {cluster.url}/webhooks/rest/webhook  {{"sender": "me", "message": "hi"}}')
    print(f"  HTTP API:      {cluster.url}/conversations/<sender>/tracker?token={token}")
    if generated:
        print("  The token was generated for this run; set RASA_AUTH_TOKEN to choose your own.")
    print(f"  Data and logs: {cluster.base}" + ("" if keep else " (deleted on exit; use --dir to keep it)"))
    print("Press Ctrl-C to stop everything.", flush=True)


def _interrupt(*_: object) -> None:
    """SIGTERM stops the cluster the same way Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run Toolkit Advisor scaled out on this machine (loopback only).")
    parser.add_argument(
        "--dir", default=os.environ.get("CLUSTER_DIR") or None, help="keep data and logs here (default: a temporary folder)"
    )
    parser.add_argument("--instances", type=int, default=2, help="number of Rasa servers (default 2)")
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    args = parser.parse_args(argv)
    token, generated = auth_token()
    keep = bool(args.dir)
    base = Path(args.dir).resolve() if keep else Path(tempfile.mkdtemp(prefix="toolkit-advisor-cluster-"))
    lifetime = int(os.environ.get("TICKET_LOCK_LIFETIME") or 15)
    cluster = Cluster(base=base, model=Path(args.model), token=token, instances=args.instances, lock_lifetime=lifetime)
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C even when started from a script, where a shell may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print(f"Starting PostgreSQL, Redis, the action server, {args.instances} Rasa servers and nginx ...", flush=True)
        cluster.start()
        _print_ready(cluster, token, generated, keep)
        while True:
            time.sleep(0.5)
            dead = [p for p in cluster.daemons.values() if not p.alive()]
            dead += [p for s in [cluster.actions, *cluster.rasa] if s for p in s.processes if not p.alive()]
            if dead:
                print(f"{dead[0].name} stopped unexpectedly (exit code {dead[0].popen.returncode}).", file=sys.stderr)
                return 1
    except (StartError, subprocess.CalledProcessError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        cluster.stop()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
