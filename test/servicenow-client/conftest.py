"""Fixtures: pysnc clients for the instance scripts/pysnc.sh started (PYSNC_* variables)."""
import os
import uuid

import pytest
import requests
from pysnc import ServiceNowClient


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run scripts/pysnc.sh", returncode=2)
    return value


@pytest.fixture(scope="session")
def instance() -> str:
    return _env("PYSNC_INSTANCE")


@pytest.fixture(scope="session")
def ca() -> str:
    return _env("PYSNC_CA")


def _client(instance: str, ca: str, user: str, password: str) -> ServiceNowClient:
    return ServiceNowClient(instance, (user, password), verify=ca)


@pytest.fixture(scope="session")
def client(instance, ca) -> ServiceNowClient:
    return _client(instance, ca, _env("PYSNC_USER"), _env("PYSNC_PASSWORD"))


@pytest.fixture(scope="session")
def client_as(instance, ca):
    """A client for another user of the instance (the sandbox's approvers use `changegate`)."""
    return lambda user, password="changegate": _client(instance, ca, user, password)


@pytest.fixture(scope="session")
def requests_log(instance, ca):
    """The requests the instance served, from the sandbox's admin API (not a ServiceNow API)."""

    def read() -> list:
        res = requests.get(f"{instance}/sandbox/admin/requests", verify=ca, timeout=10)
        res.raise_for_status()
        return res.json()["result"]

    return read


@pytest.fixture
def tag() -> str:
    """A unique marker so a test finds only the records it made."""
    return f"pysnc-{uuid.uuid4().hex[:10]}"
