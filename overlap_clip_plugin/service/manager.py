"""The service's job manager: pygeoapi's TinyDB manager, with what a public service needs.

- Job ids are unguessable (256 random bits; pygeoapi's own are time-based UUIDs).
- The job list is never shown: a job is reached by its id only, so one job's id reads no other's.
- No subscriber callbacks: the service makes no request to a URL a client names.
- A request is checked before its job exists: bad inputs are a 400 with their sentence, and no job.
- Small inputs run at once (synchronously) when the client states no preference, larger ones as a job
  whose status the client polls; a client's ``Prefer: respond-async`` is always honoured.
- A job's folder goes with its record, and both go once older than the service's ``keep`` seconds.
- A job the service's stop cut off is failed, and its folder removed, as the service stops or starts again."""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import time
from collections.abc import Callable
from typing import Any

from pygeoapi.process.manager.tinydb_ import TinyDBManager
from pygeoapi.util import DATETIME_FORMAT, JobStatus, RequestedProcessExecutionMode, get_current_datetime

from overlap_clip_plugin.service.inputs import TOKEN, new_token
from overlap_clip_plugin.service.processes import (
    ACTIVE,
    DISMISSED,
    NO_CALLBACKS,
    STOPPED,
    STOPPING,
    InputError,
    OverlapProcessor,
)

#: Seconds between two records of a running job's percentage (its messages are recorded as they come).
PROGRESS_EVERY = 0.5


class JobManager(TinyDBManager):
    """See the module."""

    def __init__(self, manager_def: dict) -> None:
        super().__init__(manager_def)
        self.supports_subscribing = False
        self.folder = manager_def["folder"]
        self.sync_bytes = int(manager_def.get("sync_bytes", 64 << 20))

    def get_jobs(self, status: Any = None, limit: Any = None, offset: Any = None) -> dict:
        """None: a job is reached by its id only."""
        return {"jobs": [], "numberMatched": 0}

    def _reporter(self, job_id: str) -> Callable[[int, str], None]:
        """What a job's processor reports its progress with: up to 5 %, queued (accepted); beyond, running,
        and started when it first got beyond. A new message is recorded at once, a new percentage at most
        every :data:`PROGRESS_EVERY` seconds (each record rewrites the jobs' file)."""
        started: list[str] = []
        last = {"message": "", "time": 0.0}

        def report(percent: int, message: str) -> None:
            moment = time.monotonic()
            if message == last["message"] and moment - float(last["time"]) < PROGRESS_EVERY:
                return
            last.update(message=message, time=moment)
            now = get_current_datetime()
            update = {"updated": now, "status": JobStatus.accepted.value, "progress": percent, "message": message}
            if percent > 5:
                update["status"] = JobStatus.running.value
                if not started:
                    started.append(now)
                    update["started"] = now
            self.update_job(job_id, update)

        return report

    def _large(self, processor: OverlapProcessor) -> bool:
        checked = processor.checked
        assert checked is not None
        sizes = [os.path.getsize(item.path) if item.path else self.sync_bytes for item in checked.inputs]
        return sum(sizes) > self.sync_bytes

    def execute_process(
        self,
        process_id: str,
        data_dict: dict,
        execution_mode: Any = None,
        requested_outputs: Any = None,
        subscriber: Any = None,
        requested_response: Any = "raw",
    ) -> tuple[str, str, Any, JobStatus, dict[str, str] | None]:
        """Check the request, make its job under a new unguessable id, and run it at once or in the background."""
        if subscriber is not None:
            raise InputError(NO_CALLBACKS)
        if STOPPING.is_set():
            raise InputError(STOPPED, 503)
        job_id = new_token()
        # Active from here to pygeoapi's last record of it (_execute_handler_sync): the service's stop waits.
        ACTIVE.add(job_id)
        try:
            return self._execute(process_id, job_id, data_dict, execution_mode, requested_outputs, requested_response)
        except BaseException:
            ACTIVE.discard(job_id)
            raise

    def _execute(
        self,
        process_id: str,
        job_id: str,
        data_dict: dict,
        execution_mode: Any,
        requested_outputs: Any,
        requested_response: Any,
    ) -> tuple[str, str, Any, JobStatus, dict[str, str] | None]:
        processor = self.get_processor(process_id)
        assert isinstance(processor, OverlapProcessor)
        processor.set_job_id(job_id)
        processor.check(data_dict)
        respond_async = RequestedProcessExecutionMode.respond_async
        if execution_mode == respond_async or (execution_mode is None and self._large(processor)):
            handler, applied = self._execute_handler_async, respond_async.value
            # Progress is recorded for a job whose status is polled; a client waiting on a request sees none.
            processor.report = self._reporter(job_id)
        else:
            handler, applied = self._execute_handler_sync, RequestedProcessExecutionMode.wait.value
        now = get_current_datetime()
        self.add_job(
            {
                "type": "process",
                "identifier": job_id,
                "process_id": process_id,
                "created": now,
                "started": None,
                "updated": now,
                "finished": None,
                "status": JobStatus.accepted.value,
                "location": None,
                "mimetype": "application/octet-stream",
                "message": "Job accepted.",
                "progress": 0,
            }
        )
        mime_type, outputs, status = handler(
            processor, job_id, data_dict, requested_outputs, requested_response=requested_response
        )
        return job_id, mime_type, outputs, status, {"Preference-Applied": applied}

    def _execute_handler_sync(self, p: Any, job_id: str, *args: Any, **kwargs: Any) -> Any:
        """Run the job as pygeoapi does (in the background thread too); active until its last record."""
        try:
            return super()._execute_handler_sync(p, job_id, *args, **kwargs)
        finally:
            ACTIVE.discard(job_id)
            DISMISSED.discard(job_id)

    def delete_job(self, job_id: str) -> bool:
        """Delete the job's record and result, and its folder; a job still queued or running stops."""
        removed = super().delete_job(job_id)  # an unknown id stops here (JobNotFoundError: a 404)
        if job_id in ACTIVE:
            DISMISSED.add(job_id)
        self._remove_folder(job_id)
        return removed

    def _remove_folder(self, job_id: str) -> None:
        """Remove the job's folder, whatever it holds; only under a job id's form, never a path a request named."""
        if TOKEN.fullmatch(job_id):
            shutil.rmtree(os.path.join(self.folder, "jobs", job_id), ignore_errors=True)

    def recover(self) -> int:
        """Fail every job recorded as queued or running that no thread of this process runs, and remove its
        folder: as the service starts (a job cut off by the last stop, or a crash, would otherwise say it runs
        until it expires) and as it stops, once its own jobs have ended. Returns how many there were."""
        cut = 0
        for job in TinyDBManager.get_jobs(self)["jobs"]:
            job_id = job["identifier"]
            if job["status"] not in (JobStatus.accepted.value, JobStatus.running.value) or job_id in ACTIVE:
                continue
            now = get_current_datetime()
            self.update_job(
                job_id, {"status": JobStatus.failed.value, "message": STOPPED, "finished": now, "updated": now}
            )
            self._remove_folder(job_id)
            cut += 1
        return cut

    def expire(self, keep: float) -> int:
        """Delete every job (record, result and folder) and upload older than ``keep`` seconds; returns how
        many went."""
        cutoff = time.time() - keep
        gone = 0
        # The records (failed jobs have no folder), by the time they were made.
        for job in TinyDBManager.get_jobs(self)["jobs"]:
            made = datetime.datetime.strptime(job["created"], DATETIME_FORMAT).replace(tzinfo=datetime.timezone.utc)
            if made.timestamp() < cutoff:
                with contextlib.suppress(Exception):
                    self.delete_job(job["identifier"])
                gone += 1
        # The folders and uploads; any may go while this looks (a job that fails removes its own).
        for kind in ("jobs", "uploads"):
            top = os.path.join(self.folder, kind)
            for name in os.listdir(top) if os.path.isdir(top) else []:
                path = os.path.join(top, name)
                try:
                    if os.path.getmtime(path) >= cutoff:
                        continue
                    if os.path.isdir(path):
                        shutil.rmtree(path)
                    else:
                        os.remove(path)
                except OSError:
                    continue
                gone += 1
        return gone
