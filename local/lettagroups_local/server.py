"""The local server: emulation + gateway + uvicorn, started and stopped as one unit."""

from __future__ import annotations

import gc
import logging
import threading
import time
from pathlib import Path
from typing import Any

from lettagroups.agent.providers import offline_forced

from . import emulation, persistence

log = logging.getLogger("lettagroups_local")


class LocalServer:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 8283, data_dir: Path | None = None, table_name: str = "letta-groups"
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.table_name = table_name
        self.emulation: emulation.Emulation | None = None
        self.snapshotter: persistence.Snapshotter | None = None
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None

    def prepare(self) -> Any:
        # Each agent uses the model its llm_config (or `model` handle) names: the built-in offline model only
        # for agents that configure none (or letta/offline). LETTA_MODEL_MODE=offline forces it for every
        # agent (the test suite sets it where it wants that); it is never set behind the developer's back.
        if offline_forced():
            log.warning("LETTA_MODEL_MODE=offline: every agent uses the built-in offline model, whatever it configures")
        else:
            log.info("agents use their configured models; agents without one use the built-in offline model (letta/offline)")
        self.emulation = emulation.start(self.table_name)
        from . import workflows

        workflows.configure(workflows.deploy(self.emulation.endpoint_url))
        if self.data_dir is not None:
            restored = persistence.load(self.emulation.endpoint_url, self.table_name, self.data_dir)
            log.info("restored %d items from %s", restored, self.data_dir)
            self.snapshotter = persistence.Snapshotter(self.emulation.endpoint_url, self.table_name, self.data_dir)
            self.snapshotter.start()
        from .app import build_app

        app = build_app()
        app.on_shutdown = self._save_data
        # moto copies whole tables on every transaction, so a busy local table makes a lot of
        # short-lived garbage; moving start-up objects out of the collector's way and raising
        # the young-generation threshold cut the full-collection pauses that dominated tail latency.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        return app

    def _config(self, app: Any) -> Any:
        import uvicorn

        return uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", lifespan="on", timeout_keep_alive=30)

    def run(self) -> None:
        """Serve in the foreground until interrupted."""
        import uvicorn

        app = self.prepare()
        log.info(
            "Letta-compatible groups API on http://%s:%d (moto at %s)",
            self.host,
            self.port,
            self.emulation.endpoint_url if self.emulation else "?",
        )
        try:
            uvicorn.Server(self._config(app)).run()
        finally:
            self.shutdown()

    def start_background(self) -> None:
        """Serve from a thread (tests); returns when the port accepts connections."""
        import uvicorn

        app = self.prepare()
        self._uvicorn = uvicorn.Server(self._config(app))
        self._thread = threading.Thread(target=self._uvicorn.run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.time() + 20
        while not self._uvicorn.started:
            if time.time() > deadline or not self._thread.is_alive():
                raise RuntimeError("local server did not start")
            time.sleep(0.02)

    def _save_data(self) -> None:
        if self.snapshotter is not None:
            self.snapshotter.stop()
            self.snapshotter = None

    def shutdown(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
        if self.snapshotter is not None:
            self.snapshotter.stop()
        if self.emulation is not None:
            self.emulation.stop()
