"""Learning paths, the teacher's pages: the path editor, playlists, ways to show, pacing and the queue."""

from __future__ import annotations

from gradebook.web.paths import bp  # noqa: F401
