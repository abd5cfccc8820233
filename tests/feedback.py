"""A processing feedback that keeps what an algorithm says and its progress, for the tests to read."""

from qgis.core import QgsProcessingFeedback


class RecordingFeedback(QgsProcessingFeedback):
    """Keeps the log (``infos``, ``warnings``, and both in order as ``messages``) and the progress values;
    cancels itself once progress reaches ``cancel_at``."""

    def __init__(self, cancel_at=None):
        super().__init__()
        self.infos = []
        self.warnings = []
        self.messages = []
        self.progress_values = []
        self.cancel_at = cancel_at
        self.progressChanged.connect(self._on_progress)

    def pushInfo(self, info):  # noqa: N802
        self.infos.append(info)
        self.messages.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning):  # noqa: N802
        self.warnings.append(warning)
        self.messages.append(warning)
        super().pushWarning(warning)

    def _on_progress(self, value):
        self.progress_values.append(value)
        if self.cancel_at is not None and value >= self.cancel_at:
            self.cancel()
