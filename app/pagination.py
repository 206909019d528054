"""`?limit=&offset=` (or `?page=`) for every list, with the total in `X-Total-Count`; the public
lists also take `?cursor=` (keyset pages, X-Next-Cursor)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Response

from app.errors import BadRequest

MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1  # past it SQL engines overflow; no list is that long
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


# Bounds in the schema (out-of-bounds values are answered 400, as the seed API did).
_LIMIT = {"minimum": 1, "maximum": MAX_LIMIT}
_OFFSET = {"minimum": 0, "maximum": MAX_OFFSET}
_PAGE = {"minimum": 1, "maximum": MAX_PAGE}


def page_params(default_limit: int) -> Callable[..., Page]:
    def _page(
        limit: Annotated[int, Query(description=f"1-{MAX_LIMIT}", json_schema_extra=_LIMIT)] = (
            default_limit
        ),
        offset: Annotated[
            int | None, Query(description="rows to skip", json_schema_extra=_OFFSET)
        ] = None,
        page: Annotated[
            int | None,
            Query(description="1-based page; alternative to offset", json_schema_extra=_PAGE),
        ] = None,
    ) -> Page:
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
        if page is not None and not 1 <= page <= MAX_PAGE:
            raise BadRequest(f"page must be between 1 and {MAX_PAGE}")
        if offset is not None and not 0 <= offset <= MAX_OFFSET:
            raise BadRequest(f"offset must be between 0 and {MAX_OFFSET}")
        start = offset if offset is not None else ((page or 1) - 1) * limit
        return Page(limit=limit, offset=start)

    return _page


PageDep = Annotated[Page, Depends(page_params(20))]
RankingPageDep = Annotated[Page, Depends(page_params(10))]


def set_total(response: Response, total: int) -> None:
    response.headers["X-Total-Count"] = str(total)


# ---------------------------------------------------------------- keyset (cursor) pages
# `?cursor=` (from the previous page's X-Next-Cursor header) seeks straight to the next page
# through an index, however deep: an offset of 500,000 reads 500,000 rows, a cursor reads one
# page. The cursor is opaque to clients: URL-safe base64 of the last row's sort key, its id
# and its position. It takes precedence over offset/page.
NEXT_CURSOR = "X-Next-Cursor"
MAX_CURSOR = 200


@dataclass(frozen=True)
class After:
    key: str | int  # the last row's sort value (an ISO time, or a vote count)
    id: int
    position: int  # rows before the next page


def encode_cursor(after: After) -> str:
    raw = json.dumps([after.key, after.id, after.position], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> After | None:
    if not cursor:  # absent, or `?cursor=` empty: the first page
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, row_id, position = json.loads(raw)
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise ValueError(key)
        if isinstance(key, int) and not 0 <= key <= MAX_OFFSET:  # a 32-bit count in the rows
            raise ValueError(key)
        if not all(isinstance(n, int) and 0 <= n <= MAX_OFFSET for n in (row_id, position)):
            raise ValueError(row_id)
        return After(key, row_id, position)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not one this API gave out (use X-Next-Cursor)") from None


CursorDep = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="the previous page's X-Next-Cursor: the next page by index seek",
    ),
]


def set_next(response: Response, after: After | None) -> None:
    if after is not None:
        response.headers[NEXT_CURSOR] = encode_cursor(after)
