"""The mitmproxy addon that records O2IMS traffic into a cassette (thin: the logic is in ``recorder``).

Load it with ``mitmdump -s addons/o2ims_recorder.py`` (a checkout) or
``mitmdump -s "$(python -c 'import replayer.record.addon as m; print(m.__file__)')"`` (an installed
package): both define ``addons``. Options are documented in docs/recording.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions, http

from replayer.o2ims.routes import O2IMS_PATH_PREFIXES
from replayer.record.recorder import (
    NOT_SAVED,
    Exchange,
    Recorder,
    RecordMode,
    headers_from_pairs,
    parse_config,
    safe_target,
)

__all__ = ["O2IMSRecorder", "addons", "LOG_PREFIX", "KEY_ENV", "KEY_FILE_ENV"]

logger = logging.getLogger("o2ims_recorder")

#: Every line this addon logs starts with this; ``o2replay record`` reads them.
LOG_PREFIX = "o2ims-recorder:"
#: Environment variables holding the HMAC key for distinguishable placeholders (never written).
KEY_ENV = "O2REPLAY_REDACT_KEY"
KEY_FILE_ENV = "O2REPLAY_REDACT_KEY_FILE"

_OPTIONS = ("cassette", "record_mode", "record_paths", "redact_rules", "cassette_flush", "record_timing",
            "record_notifications", "notification_paths")


def _redact_key() -> bytes | None:
    if os.environ.get(KEY_FILE_ENV):
        try:
            return Path(os.environ[KEY_FILE_ENV]).read_bytes().strip() or None
        except OSError as e:
            raise ValueError(f"{KEY_FILE_ENV}={os.environ[KEY_FILE_ENV]}: cannot read: {e.strerror}") from None
    return os.environ.get(KEY_ENV, "").encode("utf-8") or None


def exchange_from_flow(flow: http.HTTPFlow) -> Exchange:
    """The plain data of a completed flow (no mitmproxy types beyond this point)."""
    req, resp = flow.request, flow.response
    assert resp is not None
    # The ignores below: mitmproxy's Headers.items(multi=...) is unannotated (mitmproxy/http.py, 11 and 12).
    return Exchange(
        method=req.method,
        url=req.url,
        request_headers=headers_from_pairs(req.headers.items(multi=True)),  # type: ignore[no-untyped-call]
        request_body=req.raw_content or b"",
        status=resp.status_code,
        reason=resp.reason,
        response_headers=headers_from_pairs(resp.headers.items(multi=True)),  # type: ignore[no-untyped-call]
        response_body=resp.raw_content or b"",
        started=req.timestamp_start,
        ended=resp.timestamp_end or req.timestamp_start,
    )


class O2IMSRecorder:
    """Records O2IMS exchanges (and notifications) into a vcrpy-compatible cassette, redacted."""

    def __init__(self) -> None:
        self.recorder: Recorder | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._running = False  # set by running(): option errors after start-up are refused, not logged

    def load(self, loader: Any) -> None:
        """Declare the options."""
        loader.add_option("cassette", str, "", "Cassette file to record into (vcrpy YAML). Empty: record nothing.")
        loader.add_option("record_mode", str, RecordMode.ONCE.value,
                          "once: only a missing or empty cassette; new_episodes: append unrecorded requests; "
                          "all: replace the cassette (old one kept as .bak); none: record nothing.",
                          choices=[m.value for m in RecordMode])
        loader.add_option("record_paths", Sequence[str], list(O2IMS_PATH_PREFIXES),
                          "Path prefixes to record (default: the O2IMS APIs). '/' records everything.")
        loader.add_option("redact_rules", str, "", "YAML file extending the default redaction rules.")
        loader.add_option("cassette_flush", str, "each",
                          "When to rewrite the cassette: 'each' exchange, or every N seconds ('5s').")
        loader.add_option("record_timing", bool, False,
                          "Store recorded_at/duration per interaction (cassettes then differ between runs).")
        loader.add_option("record_notifications", bool, True,
                          "Record O2IMS notifications (POSTs to a consumer's callback), marked kind: notification.")
        loader.add_option("notification_paths", Sequence[str], [],
                          "Path prefixes of notification callbacks (besides detection by body shape).")

    def configure(self, updated: set[str]) -> None:
        """Parse the options (once per change) and open the cassette."""
        if not updated & set(_OPTIONS):
            return
        self._close()
        o = ctx.options
        if not o.cassette:
            return
        try:
            config = parse_config(
                cassette=o.cassette, record_mode=o.record_mode, record_paths=o.record_paths,
                redact_rules=o.redact_rules, redact_key=_redact_key(), cassette_flush=o.cassette_flush,
                record_timing=o.record_timing, record_notifications=o.record_notifications,
                notification_paths=o.notification_paths,
            )
            self.recorder = Recorder(config)
        except (ValueError, OSError) as e:
            if not self._running:
                # At start-up one logged error line is enough: mitmproxy's errorcheck addon then exits
                # ("Error logged during startup"), where a raised OptionsError would print a traceback.
                logger.error(f"o2ims recorder: {e}")
                return
            # Later (an option changed at run time) the change must be refused.
            # The ignore: mitmproxy's MitmproxyException.__init__ is unannotated.
            raise exceptions.OptionsError(f"o2ims recorder: {e}") from None  # type: ignore[no-untyped-call]
        if self.recorder.note:
            logger.warning(f"{LOG_PREFIX} {self.recorder.note}")
        logger.info(f"{LOG_PREFIX} recording into {config.cassette} (record_mode {config.mode.value})")
        self._start_ticker()

    def running(self) -> None:
        """Start the timed flush when the policy asks for one."""
        self._running = True
        self._start_ticker()

    def _start_ticker(self) -> None:
        if self.recorder is None or self.recorder.config.flush.each or self._ticker is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # configured before the proxy runs: running() starts it
            return
        self._ticker = loop.create_task(self._tick(self.recorder.config.flush.interval))

    async def _tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)  # a timer, not synchronisation
            if self.recorder is not None:
                try:
                    self.recorder.tick()
                except OSError as e:
                    logger.error(f"{LOG_PREFIX} cannot write {self.recorder.config.cassette}: {e.strerror or e}")

    def response(self, flow: http.HTTPFlow) -> None:
        """Record one completed exchange."""
        if self.recorder is None or flow.response is None:
            return
        try:
            outcome = self.recorder.record(exchange_from_flow(flow))
        except OSError as e:
            # The exchange is kept in memory and written by the next successful flush (or rescued at exit).
            logger.error(f"{LOG_PREFIX} cannot write {self.recorder.config.cassette}: {e.strerror or e}")
            return
        except Exception as e:  # noqa: BLE001 - one bad exchange must not stop the recording, nor pass silently
            target = safe_target(flow.request.url, self.recorder.config.rules)
            logger.error(f"{LOG_PREFIX} {flow.request.method} {target}: not recorded: "
                         f"{type(e).__name__}: {' '.join(str(e).split())[:200]}")
            return
        target = outcome.target or safe_target(flow.request.url, self.recorder.config.rules)
        if outcome.recorded:
            logger.info(f"{LOG_PREFIX} recorded #{self.recorder.recorded} {outcome.kind} "
                        f"{flow.request.method} {target} -> {flow.response.status_code}")
            if outcome.caught:  # what, never the value
                logger.warning(f"{LOG_PREFIX} scan after redaction caught {len(outcome.caught)} in "
                               f"#{self.recorder.recorded}: {'; '.join(sorted(set(outcome.caught)))}")
        elif outcome.kind is not None:
            log = logger.warning if outcome.reason.startswith("not recorded") else logger.info
            log(f"{LOG_PREFIX} {flow.request.method} {target}: {outcome.reason}")

    def error(self, flow: http.HTTPFlow) -> None:
        """An exchange that failed (upstream down or reset mid-body, client gone): nothing is written."""
        if self.recorder is not None:
            target = safe_target(flow.request.url, self.recorder.config.rules)
            logger.warning(f"{LOG_PREFIX} not recorded: {flow.request.method} {target}: "
                           f"{flow.error.msg if flow.error else 'no response'}")

    def done(self) -> None:
        """Final flush at shutdown."""
        self._close()

    def _close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        if self.recorder is not None:
            try:
                self.recorder.close()
            except OSError as e:
                logger.error(f"{LOG_PREFIX} {NOT_SAVED} {self.recorder.config.cassette}: {e.strerror or e}")
            else:
                logger.info(f"{LOG_PREFIX} closed {self.recorder.config.cassette}: "
                            f"{self.recorder.recorded} exchanges recorded, {self.recorder.caught} caught by the scan "
                            "after redaction")
            self.recorder = None


addons = [O2IMSRecorder()]
