"""`?limit=&offset=` (or `?page=`) for every list, with the total in `X-Total-Count`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Response

from app.errors import BadRequest

MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page_params(default_limit: int):  # type: ignore[no-untyped-def]
    def _page(
        limit: Annotated[int, Query(description=f"1-{MAX_LIMIT}")] = default_limit,
        offset: Annotated[int | None, Query(description="rows to skip")] = None,
        page: Annotated[
            int | None, Query(description="1-based page; alternative to offset")
        ] = None,
    ) -> Page:
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
        if page is not None and page < 1:
            raise BadRequest("page must be 1 or greater")
        if offset is not None and offset < 0:
            raise BadRequest("offset must be 0 or greater")
        start = offset if offset is not None else ((page or 1) - 1) * limit
        return Page(limit=limit, offset=start)

    return _page


PageDep = Annotated[Page, Depends(page_params(20))]
RankingPageDep = Annotated[Page, Depends(page_params(10))]


def set_total(response: Response, total: int) -> None:
    response.headers["X-Total-Count"] = str(total)
