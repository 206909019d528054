"""EXPLAIN (ANALYZE, BUFFERS) of every statement a measured call runs: the statements are caught
as the drivers send them (psycopg and asyncpg alike), then explained in a transaction that is
rolled back, so an UPDATE's plan costs nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql
from sqlalchemy import Engine, event

SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT set_config", "SELECT pg_advisory", "SAVEPOINT",
        "RELEASE", "select pg_catalog", "SELECT pg_catalog", "show ", "SHOW ", "select current")  # fmt: skip


class PlanRecorder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.plans: dict[str, list[dict[str, str]]] = {}
        self._seen: list[tuple[str, Any, bool]] = []
        self._prepared = 0

    def _catch(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
               _context: Any, _many: bool) -> None:  # fmt: skip
        if not statement.lstrip().startswith(SKIP):
            self._seen.append((statement, parameters, "$1" in statement))

    def capture(self, name: str, fn: Callable[[], Any]) -> None:
        self._seen = []
        event.listen(Engine, "before_cursor_execute", self._catch)
        try:
            fn()
        finally:
            event.remove(Engine, "before_cursor_execute", self._catch)
        explained: list[dict[str, str]] = []
        done: set[str] = set()
        for statement, parameters, positional in self._seen:
            if statement in done:
                continue
            done.add(statement)
            explained.append({"sql": statement, "plan": self._explain(statement, parameters,
                                                                      positional)})  # fmt: skip
        self.plans[name] = explained

    def _explain(self, statement: str, parameters: Any, positional: bool) -> str:
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                if positional:  # asyncpg's $1 … : prepare, then explain the execution
                    self._prepared += 1
                    name = f"rf_plan_{self._prepared}"  # prepared statements outlive a rollback
                    cursor.execute(f"PREPARE {name} AS {statement}")
                    values = [sql.Literal(v) for v in (parameters or ())]  # EXECUTE takes no binds
                    args = (
                        sql.SQL("({})").format(sql.SQL(", ").join(values))
                        if values
                        else sql.SQL("")
                    )
                    cursor.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) EXECUTE {}{}").format(
                        sql.Identifier(name), args))  # fmt: skip
                else:
                    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters or None)
                return "\n".join(str(row[0]) for row in cursor.fetchall())
            except Exception as exc:  # noqa: BLE001 - a plan we could not take is reported
                return f"(not explained: {exc})"
            finally:
                raw.rollback()
        finally:
            raw.close()

    def close(self) -> None:
        self._seen = []
