"""A private RabbitMQ node for tests that restart or kill the broker (tests/service_instances.py).

A second node beside the machine's own: its own node name (`vigia-PORT@localhost`), AMQP
port, distribution port, database, logs and configuration in the instance's folder, and no
plugins (the management plugin doubles the start time). It runs `rabbitmq-server` from
/usr/lib/rabbitmq/bin directly, in the foreground: /usr/sbin/rabbitmq-server, run as root,
re-runs it through `su rabbitmq`, whose parent turns a stop signal into SIGKILL two seconds
later. The Erlang cookie is the instance's own (HOME is the instance's folder), so the node
never shares one with the machine's broker. epmd (port 4369) is the machine's, shared.

Messages of durable queues published as persistent (Celery's default for both) are kept in
the node's message store and come back after a graceful restart; the node name and folder
stay the same across restarts, so the node finds its own database again. After a SIGKILL
only the messages the broker had confirmed are certain to be there (it confirms once they
are on disk): one published without confirms was measured lost, so a Celery app on
RabbitMQ needs `broker_transport_options = {"confirm_publish": True}` to lose nothing.
Measured start: about 3 s (a crash restart up to 5 s, the node recovering its store).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from pathlib import Path

from tests.service_instances import ServiceInstance, free_port, require_binary

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"


class RabbitMQInstance(ServiceInstance):
    start_timeout = 90.0

    def __init__(self, root: Path, port: int | None = None) -> None:
        super().__init__(root, port)
        self.dist_port = free_port()
        self.node = f"vigia-{self.port}@localhost"
        server = SERVER if os.path.exists(SERVER) else shutil.which("rabbitmq-server") or ""
        self.binary = require_binary(server or "rabbitmq-server",
                                     "the broker fault tests start their own RabbitMQ node")
        home = root / "home"
        home.mkdir(exist_ok=True)
        cookie = home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16).upper())
            cookie.chmod(0o400)
        (root / "enabled_plugins").write_text("[].\n")
        (root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            # Tests publish in bursts; the default 50 MB disk alarm would pause publishers
            # on a nearly full /tmp and hang a test instead of failing it.
            "disk_free_limit.absolute = 1MB\n"
        )

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def command(self) -> list[str]:
        return [self.binary]

    def environment(self) -> dict[str, str]:
        root = self.root
        return {
            **os.environ,
            "HOME": str(root / "home"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(root / "rabbitmq.pid"),
            # The machine's /etc/rabbitmq/rabbitmq-env.conf must not override the above.
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            # Erlang distribution on loopback only, as the machine's node does.
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def answers(self) -> bool:
        """The AMQP handshake: the node sends Connection.Start (a method frame, type 1) once
        its AMQP listener is up, which is after its boot steps (users, vhosts) are done."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as connection:
                connection.sendall(AMQP_HEADER)
                return connection.recv(7)[:1] == b"\x01"
        except OSError:
            return False
