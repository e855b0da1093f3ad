"""Signing keys for verification codes: create once (mode 0600), load, refuse loose permissions.

A key file is a small TOML file with a key id and a 256-bit secret. The default lives in
`default_key_dir()` (`$XDG_CONFIG_HOME/balint-cme/keys/`, else `~/.config/balint-cme/keys/`).
Rotation keeps old keys beside the new one under their ids, so certificates issued before a
rotation still verify. The secret never appears in a message, a repr or a log.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import os
import re
import secrets
import stat
import tomllib
from collections.abc import Iterable, Iterator
from hashlib import sha256
from pathlib import Path

from balint_cme import places
from balint_cme.errors import DataFileError, InvalidArgumentError, VerificationError
from balint_cme.storage import atomic_output

__all__ = [
    "KEY_FILE_ENV",
    "KeyRing",
    "SigningKey",
    "check_private_file",
    "create_key",
    "default_key_dir",
    "default_key_path",
    "load_key",
    "load_key_folder",
    "load_key_ring",
    "load_or_create_default_key",
    "load_retired_keys",
    "retired_key",
    "rotate_key",
    "write_new_private_file",
]

KEY_FILE_ENV = places.KEY_FILE_ENV
"""Environment variable naming the signing key file, overriding default_key_path()."""

_FORMAT = "balint-cme-key/1"
_KEY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_MAX_KEY_FILE_BYTES = 4096
_SECRET_BYTES = 32


class SigningKey:
    """A provider's secret for HMAC-SHA256 verification codes, with a public key id."""

    __slots__ = ("_secret", "key_id")

    def __init__(self, key_id: str, secret: bytes) -> None:
        if not _KEY_ID.fullmatch(key_id):
            raise InvalidArgumentError(
                "a key id is 1-32 lowercase letters, digits, '_' or '-', starting with a "
                "letter or digit"
            )
        if len(secret) < _SECRET_BYTES:
            raise InvalidArgumentError(f"a signing secret needs at least {_SECRET_BYTES} bytes")
        self.key_id = key_id
        self._secret = bytes(secret)

    @classmethod
    def generate(cls, key_id: str | None = None) -> SigningKey:
        """A new random key; the id is random too unless given."""
        return cls(key_id or f"k{secrets.token_hex(4)}", secrets.token_bytes(_SECRET_BYTES))

    def mac(self, message: bytes) -> bytes:
        """HMAC-SHA256 of `message` under this key."""
        return hmac.new(self._secret, message, sha256).digest()

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r}, secret=<hidden>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return self.key_id == other.key_id and hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __reduce__(self) -> tuple[object, ...]:
        # Keys stay in the process that loaded them: nothing pickles a secret into a worker.
        raise TypeError("a SigningKey cannot be pickled")

    def _to_file_text(self) -> str:
        encoded = base64.urlsafe_b64encode(self._secret).decode("ascii").rstrip("=")
        return (
            "# balint-cme certificate signing key. Anyone holding this file can issue\n"
            "# certificates that verify: keep it private (chmod 600) and back it up.\n"
            f'format = "{_FORMAT}"\n'
            f'key_id = "{self.key_id}"\n'
            f'secret = "{encoded}"\n'
        )


class KeyRing:
    """Keys by id: the current signing key and the retired ones that still verify old codes.

    `signing_certificates` are the society's X.509 document-signing certificates (DER), the
    public half of its PDF signatures (certificates/signing.py): verify trusts a signature
    by one of these, and no other (not the system's certificate authorities).
    """

    __slots__ = ("_keys", "signing_certificates")

    def __init__(
        self, keys: Iterable[SigningKey], *, signing_certificates: Iterable[bytes] = ()
    ) -> None:
        self.signing_certificates: tuple[bytes, ...] = tuple(signing_certificates)
        self._keys: dict[str, SigningKey] = {}
        for key in keys:
            if key.key_id in self._keys and self._keys[key.key_id] != key:
                raise VerificationError(f"two different keys share the key id {key.key_id!r}")
            self._keys[key.key_id] = key

    def get(self, key_id: str) -> SigningKey | None:
        """The key with this id, or None."""
        return self._keys.get(key_id)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id on the ring, sorted."""
        return tuple(sorted(self._keys))

    def __iter__(self) -> Iterator[SigningKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids!r})"


def default_key_dir() -> Path:
    """`keys/` in the per-user configuration folder (`places.key_dir()`)."""
    return places.key_dir()


def default_key_path() -> Path:
    """The signing key file: `$BALINT_CME_KEY_FILE`, else `default_key_dir()/signing.key`."""
    return places.key_file()


def check_private_file(path: Path, status: os.stat_result) -> None:
    """Refuse a secret file others can read or change, or that another user owns.

    Raises:
        VerificationError: as load_key() (the message says what to run).
    """
    _check_permissions(path, status)


def write_new_private_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write a new file atomically with `mode` (parent folders 0700); never over a file.

    Raises:
        VerificationError: the file exists already or cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with atomic_output(path, mode=mode, overwrite=False) as handle:
            handle.write(data)
    except FileExistsError as err:
        raise VerificationError(f"{path} already exists; it is never overwritten") from err
    except OSError as err:
        raise VerificationError(f"cannot create {path}: {err.strerror}") from err


def _check_permissions(path: Path, status: os.stat_result) -> None:
    if os.name != "posix":
        return  # Windows ACLs are not mode bits; the user profile folder protects the file.
    if not stat.S_ISREG(status.st_mode):
        raise VerificationError(f"key file {path} is not a regular file")
    loose = stat.S_IMODE(status.st_mode) & 0o077
    if loose:
        raise VerificationError(
            f"refusing key file {path}: it can be read or changed by other users "
            f"(mode {stat.S_IMODE(status.st_mode):04o}); anyone who reads it can issue "
            f"certificates. Run `chmod 600 {path}` and try again."
        )
    # As OpenSSH: the file must be yours (or root's). Another user's file can be replaced by
    # them at any time with a key they also hold, whatever its mode says today.
    if status.st_uid not in (os.getuid(), 0):
        raise VerificationError(
            f"refusing key file {path}: it belongs to another user (uid {status.st_uid}), who "
            "can change it. Use a key file you own (copy it, then `chmod 600` the copy)."
        )


def load_key(path: Path) -> SigningKey:
    """Read a key file written by create_key().

    Raises:
        VerificationError: the file can be read by group or others (the message says to run
            `chmod 600 FILE`), belongs to another user (not root), or is not a regular file.
        DataFileError: the file is missing, unreadable, too large or not a key file.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            _check_permissions(path, os.fstat(handle.fileno()))
            raw = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as err:
        raise DataFileError(path, f"cannot read key file: {err.strerror}") from err
    if len(raw) > _MAX_KEY_FILE_BYTES:
        raise DataFileError(path, f"not a key file: larger than {_MAX_KEY_FILE_BYTES} bytes")
    try:
        fields = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DataFileError(path, "not a key file: not UTF-8 text") from err
    except tomllib.TOMLDecodeError as err:
        # tomllib's messages carry a position, never the file's text, so no secret leaks.
        line = getattr(err, "lineno", None)
        raise DataFileError(path, "not a key file: invalid TOML", line=line) from err
    except RecursionError as err:  # tomllib recurses once per level of nested arrays
        raise DataFileError(path, "not a key file: nested too deeply") from err
    if fields.get("format") != _FORMAT:
        raise DataFileError(path, f'not a key file: expected format = "{_FORMAT}"')
    key_id = fields.get("key_id")
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise DataFileError(path, "not a key file: key_id is missing or malformed")
    encoded = fields.get("secret")
    if not isinstance(encoded, str):
        raise DataFileError(path, "not a key file: secret is missing")
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        secret = base64.b64decode(padded, altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DataFileError(path, "not a key file: secret is not base64") from None
    if len(secret) < _SECRET_BYTES:
        raise DataFileError(path, f"not a key file: secret is shorter than {_SECRET_BYTES} bytes")
    return SigningKey(key_id, secret)


def _write_new_file(path: Path, text: str) -> None:
    """Write `text` to a new file with mode 0600, atomically and never over an existing file."""
    with atomic_output(path, mode=0o600, overwrite=False) as handle:
        handle.write(text.encode("utf-8"))


def create_key(path: Path, *, key_id: str | None = None) -> SigningKey:
    """Create a new random key at `path` (mode 0600, parent folders 0700).

    Raises:
        VerificationError: a file already exists there, or it cannot be written.
    """
    path = Path(path)
    key = SigningKey.generate(key_id)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_new_file(path, key._to_file_text())
    except FileExistsError as err:
        raise VerificationError(f"key file {path} already exists; it is never overwritten") from err
    except OSError as err:
        raise VerificationError(f"cannot create key file {path}: {err.strerror}") from err
    return key


def load_or_create_default_key() -> tuple[SigningKey, Path, bool]:
    """The default signing key, created on first use. Returns (key, path, created).

    Raises:
        VerificationError, DataFileError: as load_key() and create_key().
    """
    path = default_key_path()
    if path.exists():
        return load_key(path), path, False
    return create_key(path), path, True


def load_key_ring(paths: Iterable[Path]) -> KeyRing:
    """Every key in `paths`; a folder contributes each of its `*.key` files.

    Named explicitly, every file must be a key file (load_key_folder() is the lenient scan
    used beside the default key). Copies of one key are harmless.

    Raises:
        VerificationError, DataFileError: as load_key(); two files holding different keys
            under one id.
    """
    found: list[tuple[Path, SigningKey]] = []
    for entry in paths:
        entry = Path(entry)
        files = sorted(entry.glob("*.key")) if entry.is_dir() else [entry]
        found.extend((file, load_key(file)) for file in files)
    return _ring_of(found)


def _scan_folder(
    folder: Path, *, skip: Path | None = None
) -> tuple[list[tuple[Path, SigningKey]], list[str]]:
    """(file, key) for every `*.key` file in `folder` that holds a key, and a note for each
    that does not. Keys are told apart by the id inside the file, never by the file's name.

    Raises:
        VerificationError: a key file others can read or change, or one of another user.
    """
    found: list[tuple[Path, SigningKey]] = []
    notes: list[str] = []
    for candidate in sorted(folder.glob("*.key")):
        if skip is not None and candidate.name == skip.name:
            continue
        try:
            found.append((candidate, load_key(candidate)))
        except DataFileError as err:
            notes.append(f"skipped {candidate}: {err.reason}")
    return found, notes


def _ring_of(found: Iterable[tuple[Path, SigningKey]]) -> KeyRing:
    """The keys, each id once: copies of one key are harmless; two secrets under one id are
    refused, naming both files (one of them is not the key it claims to be)."""
    by_id: dict[str, tuple[Path, SigningKey]] = {}
    for path, key in found:
        seen = by_id.setdefault(key.key_id, (path, key))
        if seen[1] != key:
            raise VerificationError(
                f"two different keys share the key id {key.key_id!r} ({seen[0]} and {path}): "
                "remove the one that is not the provider's"
            )
    return KeyRing(key for _, key in by_id.values())


def load_key_folder(path: Path) -> tuple[KeyRing, tuple[str, ...]]:
    """The signing key at `path` and every key beside it (retired by rotate_key(), backups).

    Every `*.key` file in the folder is read and known by the key id inside it, whatever its
    name: a backup copy (`cp -p signing.key signing-backup.key`) is the same key, harmless; a
    file there that is not a key file is skipped, with a note returned for it.

    Raises:
        VerificationError, DataFileError: as load_key() for `path` itself; a key file in the
            folder that others can read or change or that another user owns; two files with
            different keys under one id.
    """
    path = Path(path)
    signing = load_key(path)
    found, notes = _scan_folder(path.parent, skip=path)
    return _ring_of([(path, signing), *found]), tuple(notes)


def retired_key(path: Path, key_id: str) -> SigningKey | None:
    """The key with id `key_id` beside the signing key at `path` (retired by rotate_key()).

    `<key id>.key` is looked at first; otherwise every `*.key` file in the folder (files that
    are not keys are passed over). Returns None when no file there holds that key id.

    Raises:
        VerificationError, DataFileError: as load_key_folder().
    """
    if not _KEY_ID.fullmatch(key_id):
        return None
    path = Path(path)
    candidate = path.with_name(f"{key_id}.key")
    if candidate.is_file() and candidate.name != path.name:
        with contextlib.suppress(DataFileError):
            key = load_key(candidate)
            if key.key_id == key_id:
                return key
    found, _ = _scan_folder(path.parent, skip=path)
    return _ring_of(found).get(key_id)


def load_retired_keys(path: Path) -> tuple[SigningKey, ...]:
    """Every key beside the signing key at `path` (not that key itself), by the id inside.

    Raises:
        VerificationError, DataFileError: as load_key_folder().
    """
    path = Path(path)
    found, _ = _scan_folder(path.parent, skip=path)
    return tuple(sorted(_ring_of(found), key=lambda key: key.key_id))


def rotate_key(path: Path, *, key_id: str | None = None) -> tuple[SigningKey, Path]:
    """Retire the key at `path` to `<its key id>.key` beside it and create a new one at `path`.

    Certificates signed with the old key keep verifying against `load_key_ring([folder])`.
    Returns the new key and where the old one went.

    Raises:
        VerificationError, DataFileError: as load_key() and create_key(); the retired name is
            already taken.
    """
    path = Path(path)
    old = load_key(path)
    retired = path.with_name(f"{old.key_id}.key")
    if retired.exists():
        raise VerificationError(f"cannot retire key {old.key_id!r}: {retired} already exists")
    try:
        os.link(path, retired)
        os.unlink(path)
    except OSError as err:
        raise VerificationError(f"cannot retire key file {path}: {err.strerror}") from err
    return create_key(path, key_id=key_id), retired
