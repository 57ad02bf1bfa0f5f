"""Fixtures shared by the dashboard's tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class StartedServers:
    """Each ``solara run`` the dashboard command started: its command and environment."""

    calls: list[list[str]] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def started(monkeypatch) -> StartedServers:
    """The dashboard command's server replaced by a record of how it was started, and a
    clean exit."""
    servers = StartedServers()

    class Server:
        def __init__(self, command: list[str], **options: Any) -> None:
            servers.calls.append(command)
            servers.envs.append(options["env"])

        def wait(self, timeout: float | None = None) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", Server)
    return servers
