"""`make demo-kafka`: the demo through a real Kafka broker, started from the cached jars.

Starts a single-node Kafka 4 broker from ``.cache/kafka/`` (``infra/kafka/fetch-jars.sh``;
SASL/SCRAM as in production, principal ``admin``), then ``polku up --demo`` with its relays
publishing to it and tracking projecting from it. It prints the topic names and the command
that runs the example consumer against them. Ctrl-C stops Polku, then the broker. Each run
starts from nothing: Polku's data is in ``var/kafka-demo`` (emptied first), the broker's in a
temporary directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.kafka_broker import USERS, KafkaBroker  # noqa: E402

DATA_DIR = ROOT / "var" / "kafka-demo"
PREFIX = "polku"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    print("Starting Kafka from the cached jars (about 20 s the first time) ...", flush=True)
    broker = KafkaBroker().start()
    servers = broker.bootstrap_servers
    env = {
        **os.environ,
        "POLKU_DATA_DIR": str(DATA_DIR),
        "POLKU_KAFKA_BOOTSTRAP_SERVERS": servers,
        "POLKU_KAFKA_TOPIC_PREFIX": PREFIX,
        "POLKU_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "POLKU_KAFKA_USERNAME": "admin",
        "POLKU_KAFKA_PASSWORD": USERS["admin"],
        "POLKU_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    print(
        f"Kafka is up at {servers} (SASL/SCRAM-SHA-512, user admin).\n"
        f"Topics: {PREFIX}.enrolment.events, {PREFIX}.assessment.events "
        f"(and {PREFIX}.assessment.restricted, tracking's only)\n"
        f"AsyncAPI: http://127.0.0.1:{port}/enrolment/asyncapi.json and "
        f"http://127.0.0.1:{port}/assessment/asyncapi.json\n"
        "Run the example consumer in another terminal:\n"
        f"  .venv/bin/python examples/kafka_consumer.py --bootstrap-servers {servers} "
        f"--username admin --password {USERS['admin']} --topic {PREFIX}.enrolment.events "
        f"--topic {PREFIX}.assessment.events --group demo-subscriber --validate "
        "--state var/kafka-demo/consumer.sqlite\n",
        flush=True,
    )
    polku = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--demo", "--port", port], env=env, cwd=ROOT
    )
    try:
        return polku.wait()
    except KeyboardInterrupt:
        polku.send_signal(signal.SIGTERM)
        return polku.wait()
    finally:
        broker.close()
        print("Kafka stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
