"""Serving the emulator over real HTTPS on loopback.

`Emulator` runs it in this process on a free port (a context manager for tests
and `provision --emulator`); `serve` runs it in the foreground. On first start
a CA and a server certificate are made (trustme) and kept beside the state, so
clients verify TLS against the CA file like any other server.
"""
from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import trustme
import uvicorn

from provisioner.emulator.app import EmulatorApp
from provisioner.emulator.arm import TENANT_ID, Config
from provisioner.emulator.control import Control
from provisioner.emulator.files import FILE_MODE, private_directory, write_private
from provisioner.emulator.identity import ARM_AUDIENCES
from provisioner.emulator.store import Store


@dataclass(frozen=True)
class AccessToken:
    """Shaped like azure.core.credentials.AccessToken (the emulator does not import azure)."""

    token: str
    expires_on: int


ARM_RESOURCES = {a.rstrip("/") for a in ARM_AUDIENCES}


class EmulatorCredential:
    """A TokenCredential for the SDK clients: hands out the emulator's token. With `mint` (the embedded
    emulator's), a scope of another resource (the Azure OpenAI data plane's) gets a token signed for it."""

    def __init__(self, token: str, mint: Callable[[str], str] | None = None):
        self._token = token
        self._mint = mint

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        resource = scopes[0].removesuffix("/.default").rstrip("/") if scopes else ""
        if self._mint is not None and resource and resource not in ARM_RESOURCES:
            return AccessToken(self._mint(resource), int(time.time()) + 3600)
        return AccessToken(self._token, int(time.time()) + 3600)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:  # never show the token
        return "EmulatorCredential(***)"


def ensure_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server-key.pem) in `directory` (owner-only, as the key is secret),
    made once and reused."""
    private_directory(directory)
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    if not (ca_file.exists() and cert_file.exists() and key_file.exists()):
        ca = trustme.CA(organization_name="provision emulator")
        server = ca.issue_cert("127.0.0.1", "localhost", "::1")
        write_private(key_file, server.private_key_pem.bytes())
        write_private(cert_file, b"".join(pem.bytes() for pem in server.cert_chain_pems))
        write_private(ca_file, ca.cert_pem.bytes())
    else:
        for existing in (ca_file, cert_file, key_file):  # made by an older version: narrow them
            os.chmod(existing, FILE_MODE)
    return ca_file, cert_file, key_file


class Emulator:
    """An emulated Azure on https://127.0.0.1:<port>.

        with Emulator() as emu:                      # in memory, operations complete at once
            client = CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION,
                                                       base_url=emu.base_url, connection_verify=emu.ca_path)

    `state` is a SQLite file shared with other processes (None: in memory). `config` sets the
    behaviour (default: operations complete at once, no throttling; see `Config` for `serve`'s).
    """

    def __init__(self, state: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 config: Config | None = None, tls_dir: str | Path | None = None):
        self.state = Path(state) if state else None
        self.host = host
        self.port = port
        if config is None and self.state is None:
            config = test_config()
        self._config = config
        self._tls_dir = Path(tls_dir) if tls_dir else None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app: EmulatorApp | None = None

    # lifecycle
    def start(self) -> "Emulator":
        # The state first: a state file that cannot be used (StateFileError) stops before anything is made.
        self.app = EmulatorApp(Store(str(self.state) if self.state else None), self._config)
        tls_dir = self._tls_dir
        if tls_dir is None:
            if self.state is not None:
                tls_dir = self.state.parent / (self.state.name + ".tls")
            else:
                self._tmp = tempfile.TemporaryDirectory(prefix="provision-emulator-")
                tls_dir = Path(self._tmp.name)
        self.ca_path_obj, cert_file, key_file = ensure_certificates(tls_dir)
        self._tls_dir_used = tls_dir
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP (proto 0
        # does not), and without it Nagle + delayed ACK add ~40 ms to every response.
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, ssl_certfile=str(cert_file), ssl_keyfile=str(key_file),
                                log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="provision-emulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator's HTTPS server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            # Don't wait for clients to close idle keep-alive connections: a TLS close waits for the
            # peer's close_notify, which an idle SDK client never sends (shutdown took the full 10 s).
            self._server.force_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
        if self.app is not None:
            self.app.store.close()
            self.app = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # what a client needs
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_path(self) -> str:
        return str(self.ca_path_obj)

    @property
    def token(self) -> str:
        return self.app.token

    @property
    def credential(self) -> EmulatorCredential:
        return EmulatorCredential(self.token, mint=lambda resource: self.control.access_token(audience=resource))

    @property
    def control(self) -> Control:
        return Control(self.app)

    @property
    def token_path(self) -> str:
        """A file holding the token (owner-only), so it never has to be printed."""
        return str(write_private(self._tls_dir_used / "token", self.token.encode()))

    @property
    def authority(self) -> str:
        """The identity platform's host, for azure-identity's `authority=` (with
        `disable_instance_discovery=True`) or AZURE_AUTHORITY_HOST: the emulator itself."""
        return self.base_url

    @property
    def tenant_id(self) -> str:
        return TENANT_ID

    def environment(self, principal: dict | None = None) -> dict[str, str]:
        """Environment variables that point provision (and other clients) at this emulator: its URL, CA
        file and token file; with a `principal` from `control.add_service_principal`, the standard
        azure-identity variables for that principal instead of the token file."""
        endpoint = {"PROVISION_EMULATOR_URL": self.base_url, "PROVISION_EMULATOR_CA": self.ca_path}
        if principal is None:
            return {**endpoint, "PROVISION_EMULATOR_TOKEN_FILE": self.token_path}
        return {**endpoint, "AZURE_AUTHORITY_HOST": self.authority, "AZURE_TENANT_ID": self.tenant_id,
                "AZURE_CLIENT_ID": principal["client_id"], "AZURE_CLIENT_SECRET": principal["client_secret"]}


def test_config() -> Config:
    """Operations complete at once and nothing is throttled: the default for in-memory emulators."""
    from provisioner.emulator.arm import INSTANT_DURATIONS

    return Config(lro_durations=dict(INSTANT_DURATIONS), retry_after=0,
                  throttle={**Config().throttle, "enabled": False})


def serve(host: str = "127.0.0.1", port: int = 8443, state: str | Path | None = None,
          config: Config | None = None) -> None:
    """Run in the foreground until interrupted (provision emulator serve)."""
    emulator = Emulator(state, host=host, port=port, config=config or Config())
    emulator.start()
    try:
        print(f"Emulated Azure Resource Manager at {emulator.base_url}")
        print(f"CA certificate: {emulator.ca_path}")
        print(f"State: {emulator.state or 'in memory'}")
        print("Environment for clients:")
        for name, value in emulator.environment().items():
            print(f"  export {name}={value}")
        sys.stdout.flush()  # piped stdout is block-buffered: whoever reads it needs the URL now
        while emulator._thread.is_alive():
            emulator._thread.join(timeout=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
