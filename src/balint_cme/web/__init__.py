"""Edge: public verification of certificates, two ways.

- `create_app(...)` (balint_cme.web.app): the verification web app, an ASGI application built
  on Starlette; `balint-cme serve` runs it with uvicorn. Needs the `web` extra.
- `publish_site(...)` (balint_cme.web.publish): a static folder for any static host.

The shared part, the public answer for a code, is balint_cme.web.answers. Importing this
package loads neither starlette nor uvicorn: `create_app` is resolved on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from balint_cme.web.app import create_app
    from balint_cme.web.publish import publish_site

__all__ = ["create_app", "publish_site"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from balint_cme.web.app import create_app  # noqa: PLC0415 - starlette only when asked

        return create_app
    if name == "publish_site":
        from balint_cme.web.publish import publish_site  # noqa: PLC0415 - the same, for symmetry

        return publish_site
    raise AttributeError(f"module 'balint_cme.web' has no attribute {name!r}")
