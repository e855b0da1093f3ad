"""Certify's output folder: a hidden staging folder to draw into, the publishing of a
complete batch into place (one atomic rename per file), which can be taken back until the
ledger confirms it, and the syncing of a whole batch to disk at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from balint_cme.certificates.batch import RenderedFile
from balint_cme.errors import CertificateError, OutputWriteError
from balint_cme.ledger.records import CertificateRecord

__all__ = [
    "Published",
    "keep_issued_file",
    "publish",
    "staging_folder",
    "sync_files",
    "sync_folder",
]

_STAGING_PREFIX = ".balint-cme-partial-"


def _is_running(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows: keep the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _remove_empty(folders: Sequence[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def staging_folder(out_dir: Path) -> Iterator[Path]:
    """A new hidden folder in `out_dir` to draw into, removed when the block ends; on failure
    `out_dir` goes too (with the parents made for it) if it was made here and is empty.

    Folders left by runs that were killed (their process is gone) are removed first.

    Raises:
        OutputWriteError: `out_dir` is not a folder, or cannot be made or written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputWriteError(out_dir, "is not a folder; --out names the folder for certificates")
    made = [folder for folder in (out_dir, *out_dir.parents) if not folder.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.glob(f"{_STAGING_PREFIX}*"):
            pid = stale.name.removeprefix(_STAGING_PREFIX).split("-", 1)[0]
            if pid.isdigit() and not _is_running(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=out_dir))
    except OSError as err:
        _remove_empty(made)
        raise OutputWriteError(
            out_dir, f"cannot write certificates here: {err.strerror or err}"
        ) from err
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made)
        raise
    shutil.rmtree(staging, ignore_errors=True)


class Published:
    """Files moved into `out_dir` by publish(), and what each replaced, until the ledger
    confirms them: take_back() restores the folder as it was."""

    def __init__(self, out_dir: Path, kept: Path) -> None:
        self.out_dir = out_dir
        self.kept = kept
        """A folder (inside the staging folder) holding a link to each file replaced."""
        self.moved: list[tuple[Path, Path | None]] = []
        """(published file, the earlier file's kept link or None) in publishing order."""

    def take_back(self) -> None:
        """Undo the publishing: earlier files back in place, new ones removed (best effort:
        a file that cannot be restored stays unconfirmed, which `ledger check-files` and the
        next run see)."""
        for target, previous in reversed(self.moved):
            with contextlib.suppress(OSError):
                if previous is not None:
                    os.replace(previous, target)
                else:
                    target.unlink()
        self.moved.clear()


def publish(rendered: Sequence[RenderedFile], out_dir: Path, staging: Path) -> Published:
    """Move a complete batch from the staging folder into `out_dir`, one atomic rename each,
    keeping a link to every file it replaces so the batch can be taken back.

    Raises:
        CertificateError: a name is taken by a folder, or a file cannot be moved (the files
            already moved are taken back).
    """
    files = sorted({file.path for file in rendered})
    published = Published(out_dir, staging / ".replaced")
    try:
        for path in files:  # checked first, so a blocked name moves nothing
            if (out_dir / path.name).is_dir():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder has the name", str(out_dir / path.name)
                )
        published.kept.mkdir()
        for path in files:
            target = out_dir / path.name
            previous: Path | None = published.kept / path.name
            try:
                os.link(target, published.kept / path.name)
            except FileNotFoundError:
                previous = None
            os.replace(path, target)
            published.moved.append((target, previous))
    except OSError as err:
        published.take_back()
        raise CertificateError(f"cannot write certificates to {out_dir}: {err}") from err
    return published


def _syncfs(path: Path) -> bool:
    """Linux: flush every file of the file system holding `path` in ONE call (syncfs(2));
    False where that is not available (the caller syncs file by file)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return bool(syncfs(descriptor) == 0)
    finally:
        os.close(descriptor)


def sync_files(paths: Sequence[Path], folder: Path) -> None:
    """Make the files `paths` (all in `folder`) durable together, before the ledger is told
    they exist.

    One file-system sync for the whole batch instead of one fsync per file: on a busy disk a
    per-file fsync costs milliseconds each, and certify's batch needs them all anyway before
    one confirmation. Elsewhere than Linux, each file is fsynced (the same guarantee, slower).

    Raises:
        OSError: a file cannot be synced.
    """
    if not paths or _syncfs(folder):
        return
    for path in paths:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def sync_folder(folder: Path) -> None:
    """Make the names in `folder` (files just renamed into it) durable: fsync of the folder.

    Best effort where folders cannot be opened for syncing (Windows), as storage.write_atomically.
    """
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sha256_of(path: Path) -> str | None:
    """The SHA-256 of the file at `path`, or None if there is no readable file there."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def keep_issued_file(
    file: RenderedFile, on_file: CertificateRecord, out_dir: Path, recorded_pages: Sequence[str]
) -> RenderedFile | None:
    """For an unchanged, signed certificate drawn again: the file as issued, if it is still in
    `out_dir` byte for byte, put back in place of the new drawing (`file`, in the staging
    folder); else None (the new drawing is published).

    A signature carries its signing time, so a signed certificate drawn again never has the
    bytes it was issued with, although its page is the same. Keeping the issued file means a
    re-run of certify leaves every unchanged certificate exactly as the physician received it
    and as the ledger recorded it (its SHA-256), instead of a new signed copy of the same page.
    Kept only when the new drawing shows the very page recorded for that version (same
    layout and software), so a layout change is still published.
    """
    if not file.signed or on_file.pdf_sha256 is None or file.page_digest not in recorded_pages:
        return None
    issued = out_dir / file.path.name
    if _sha256_of(issued) != on_file.pdf_sha256:
        return None
    try:
        os.unlink(file.path)
        os.link(issued, file.path)  # the issued file's data is on disk already: no sync needed
    except OSError:
        return None
    return file.model_copy(update={"sha256": on_file.pdf_sha256})
