"""`?limit=&offset=` (or `?page=`) for every list, with the total in `X-Total-Count`."""

from __future__ import annotations

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


def page_params(default_limit: int):  # type: ignore[no-untyped-def]
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
