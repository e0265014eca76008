"""Progress bars for long commands: shown only when a person is watching a terminal."""

import sys

from tqdm import tqdm


class ProgressBar:
    """A byte-based progress bar on stderr, silent when stderr is not a terminal."""

    def __init__(self, description: str, total: int, unit: str = "B"):
        self._bar = None
        if sys.stderr.isatty():
            self._bar = tqdm(
                total=total,
                desc=description,
                unit=unit,
                unit_scale=True,
                unit_divisor=1024 if unit == "B" else 1000,
                leave=False,
                file=sys.stderr,
            )

    def update_to(self, done: int, total: int | None = None) -> None:
        if self._bar is None:
            return
        if total is not None:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
