"""storage.atomic_output, the one atomic-write primitive: readers see the old file or the
whole new one; a failure leaves the old file and no temporary file; a key file is never
overwritten. write_atomically, key files and the merged certificate PDF all go through it.
Its folder counterpart, atomic_directory (the static verification site), likewise."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme.certificates import batch, keys
from balint_cme.storage import atomic_directory, atomic_output, write_atomically
from balint_cme.web import publish


class _Interrupted(Exception):
    pass


def _listing(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@given(
    old=st.binary(max_size=200),
    new=st.binary(max_size=200),
    cut=st.integers(min_value=0, max_value=200),
)
def test_a_failed_write_leaves_the_old_file_and_nothing_else(
    tmp_path_factory: pytest.TempPathFactory, old: bytes, new: bytes, cut: int
) -> None:
    folder = tmp_path_factory.mktemp("atomic")
    target = folder / "out.pdf"
    target.write_bytes(old)

    def interrupted_write() -> None:
        with atomic_output(target) as handle:
            handle.write(new[:cut])
            raise _Interrupted

    with pytest.raises(_Interrupted):
        interrupted_write()
    assert target.read_bytes() == old
    assert _listing(folder) == ["out.pdf"]
    write_atomically(target, new)
    assert target.read_bytes() == new
    assert _listing(folder) == ["out.pdf"]


def test_the_mode_is_applied(tmp_path: Path) -> None:
    target = tmp_path / "secret.tsv"
    with atomic_output(target, mode=0o600) as handle:
        handle.write(b"data")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_bytes() == b"data"


def test_without_overwrite_an_existing_file_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "key.toml"
    target.write_bytes(b"the old key")

    def replace_the_key() -> None:
        with atomic_output(target, overwrite=False) as handle:
            handle.write(b"a new key")

    with pytest.raises(FileExistsError):
        replace_the_key()
    assert target.read_bytes() == b"the old key"
    assert _listing(tmp_path) == ["key.toml"]
    fresh = tmp_path / "new.toml"
    with atomic_output(fresh, mode=0o600, overwrite=False) as handle:
        handle.write(b"a new key")
    assert fresh.read_bytes() == b"a new key"
    assert _listing(tmp_path) == ["key.toml", "new.toml"]


def test_the_writers_share_the_primitive() -> None:
    # One routine: the merged PDF and key files use storage's, not copies of their own.
    assert vars(batch)["atomic_output"] is atomic_output
    assert vars(keys)["atomic_output"] is atomic_output
    assert not hasattr(batch, "_atomic_output")
    assert vars(publish)["atomic_directory"] is atomic_directory


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    site = tmp_path / "site"
    with atomic_directory(site) as staging:
        (staging / "a.txt").write_bytes(b"one")
        (staging / "c").mkdir()
        (staging / "c" / "b.txt").write_bytes(b"two")
    assert _tree(site) == {"a.txt": b"one", "c/b.txt": b"two"}

    def interrupted() -> None:
        with atomic_directory(site) as staging:
            (staging / "a.txt").write_bytes(b"half of the new site")
            raise _Interrupted

    with pytest.raises(_Interrupted):
        interrupted()
    assert _tree(site) == {"a.txt": b"one", "c/b.txt": b"two"}
    assert _listing(tmp_path) == ["site"]
    with atomic_directory(site) as staging:
        (staging / "new.txt").write_bytes(b"new")
    assert _tree(site) == {"new.txt": b"new"}
    assert _listing(tmp_path) == ["site"]


def test_a_folder_left_aside_by_a_killed_run_is_put_back(tmp_path: Path) -> None:
    site = tmp_path / "site"
    aside = tmp_path / ".site.old-99999"  # killed between the two renames: no "site"
    aside.mkdir()
    (aside / "index.html").write_bytes(b"the published site")

    def interrupted() -> None:
        with atomic_directory(site):
            raise _Interrupted

    with pytest.raises(_Interrupted):
        interrupted()
    assert _tree(site) == {"index.html": b"the published site"}
    assert _listing(tmp_path) == ["site"]
