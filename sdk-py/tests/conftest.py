"""A live relay for the whole session: the Node relay on embedded PGlite, started once.

Set ``ADMP_TEST_RELAY_URL`` (and ``ADMP_TEST_ADMIN_KEY``, ``ADMP_TEST_JWT_SECRET``) to run the
suite against a relay you started yourself instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Iterator

import httpx
import pytest

from agent_dispatch import ADMPClient

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "sdk-py-admin-key-0123456789"
JWT_SECRET = "sdk-py-jwt-secret-0123456789-0123456789"


@dataclass(frozen=True)
class Relay:
    url: str
    admin_key: str
    jwt_secret: str

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin_key}"})


@dataclass(frozen=True)
class Agent:
    agent_id: str
    api_key: str
    hmac_secret: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def relay() -> Iterator[Relay]:
    external = os.environ.get("ADMP_TEST_RELAY_URL")
    if external:
        yield Relay(
            external,
            os.environ.get("ADMP_TEST_ADMIN_KEY", "dev-admin-key"),
            os.environ.get("ADMP_TEST_JWT_SECRET", JWT_SECRET),
        )
        return
    port = _free_port()
    data_dir = tempfile.mkdtemp(prefix="admp-sdk-py-")
    env = {
        **os.environ,
        "PORT": str(port),
        "ADMP_DATA_DIR": data_dir,
        "API_KEY": ADMIN_KEY,
        "JWT_SECRET": JWT_SECRET,
        "NODE_ENV": "development",
        "LOG_LEVEL": "warn",
        # Pings every second, so the suite sees the client answer them.
        "HEARTBEAT_INTERVAL_SEC": "1",
    }
    log = open(os.path.join(data_dir, "relay.log"), "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        ["node", "--import", "tsx", "src/entry/node.ts"], cwd=REPO_ROOT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"relay exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"relay did not answer /health within 60 s; see {log.name}")
            time.sleep(0.2)
        yield Relay(url, ADMIN_KEY, JWT_SECRET)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def register(relay: Relay, prefix: str = "py") -> Agent:
    """Register a fresh agent with the admin key."""
    agent_id = f"{prefix}.{uuid.uuid4().hex[:12]}"
    with relay.admin() as admin:
        response = admin.post("/v1/agents", json={"agent_id": agent_id})
    assert response.status_code == 201, response.text
    data = response.json()
    return Agent(agent_id, data["api_key"], data["hmac_secret"])


@pytest.fixture
def alice(relay: Relay) -> Agent:
    return register(relay, "alice")


@pytest.fixture
def bob(relay: Relay) -> Agent:
    return register(relay, "bob")


@pytest.fixture
async def sender(relay: Relay, alice: Agent) -> AsyncIterator[ADMPClient]:
    """An async client acting as ``alice``."""
    async with ADMPClient(relay_url=relay.url, agent_id=alice.agent_id, api_key=alice.api_key) as client:
        yield client


@pytest.fixture
async def worker(relay: Relay, bob: Agent) -> AsyncIterator[ADMPClient]:
    """An async client acting as ``bob``."""
    async with ADMPClient(relay_url=relay.url, agent_id=bob.agent_id, api_key=bob.api_key) as client:
        yield client
