"""Stamp files: a rerun with the same arguments skips the steps already finished (the
in-process steps of the data preparation and of the SMT build, ``smt/build.py``).

A step's stamp (``<data_dir>/.stamps/<step>.json``) is removed when the step starts and
written -- atomically, after all of the step's outputs -- when it ends.  It records the
step's configuration and a fresh run id; the next step puts that id into its own
configuration, so redoing a step also redoes everything after it.  Input files enter
a configuration by content (``sutskever_plugin.steps.file_digest``, the key the
scripts' steps use too), never by name or size alone.
"""
import json
import os
import uuid
from typing import Optional

from .textio import atomic_open


class Stamp:
    def __init__(self, data_dir: str, step: str, config: dict):
        self.path = os.path.join(data_dir, ".stamps", f"{step}.json")
        self.step = step
        self.config = json.loads(json.dumps(config, sort_keys=True))  # normalised

    def _read(self) -> Optional[dict]:
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def done(self) -> bool:
        data = self._read()
        return data is not None and data.get("config") == self.config

    @property
    def run_id(self) -> Optional[str]:
        data = self._read()
        return data.get("run_id") if data else None

    @property
    def info(self) -> dict:
        data = self._read()
        return (data or {}).get("info", {})

    def start(self):
        if os.path.exists(self.path):
            os.remove(self.path)

    def finish(self, info: Optional[dict] = None) -> str:
        run_id = uuid.uuid4().hex
        with atomic_open(self.path) as f:
            json.dump(
                {"step": self.step, "config": self.config, "run_id": run_id, "info": info or {}},
                f,
                indent=1,
                sort_keys=True,
            )
        return run_id
