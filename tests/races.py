"""A lost race on a unique value, played in one test: the rival's row is already there, but
every look-up by that value during the request finds nothing, as when the rival commits
between the service's duplicate check and its insert. The insert then meets the database's
unique constraint, which is what a real race ends on."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import visitors


@dataclass
class Race:
    hidden: int = 0  # look-ups that did not see the rival
    constraint_errors: int = 0  # inserts the database refused

    def assert_lost_at_the_constraint(self) -> None:
        assert self.hidden, "no look-up by the unique value was made"
        assert self.constraint_errors, "the insert never reached the unique constraint"


def _filters_on(statement, column: sa.Column) -> bool:
    where = getattr(statement, "whereclause", None)
    return where is not None and any(
        isinstance(node, sa.Column) and node.table is column.table and node.name == column.name
        for node in visitors.iterate(where)
    )


@contextmanager
def rival_unseen(attribute) -> Iterator[Race]:
    """Within the block, ORM queries that filter on `attribute` (e.g. Provider.vat_number)
    return no rows: the service's duplicate check passes and its insert hits the constraint."""
    column = attribute.property.columns[0]
    race = Race()

    def hide(state: ORMExecuteState) -> None:
        if state.is_select and _filters_on(state.statement, column):
            state.statement = state.statement.where(sa.false())
            race.hidden += 1

    def count(context) -> None:
        if isinstance(context.sqlalchemy_exception, sa.exc.IntegrityError):
            race.constraint_errors += 1

    event.listen(Session, "do_orm_execute", hide)
    event.listen(Engine, "handle_error", count)
    try:
        yield race
    finally:
        event.remove(Session, "do_orm_execute", hide)
        event.remove(Engine, "handle_error", count)
