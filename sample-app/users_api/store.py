"""User storage: SQLite or DynamoDB behind one small interface.

Both backends store {id, name, email, created_at} keyed by ``id`` and insert
conditionally, so creating a user whose id (derived from the email) already
exists raises ``UserExists`` instead of overwriting.

Listing is keyset pagination: ``list_users(limit, after)`` returns the users
that follow the user id ``after`` in the backend's own order (id order in
SQLite, DynamoDB's scan order), and the id to continue after, or None when
there is nothing more. Neither order is meaningful to callers; both are stable.
"""

import os
import sqlite3
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import List, Optional, Protocol, Tuple

from .aws import LazyClient, preload
from .validation import user_id_for


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    created_at: str

    @classmethod
    def new(cls, name: str, email: str) -> "User":
        """A new user from validated fields, its id derived from the email."""
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return cls(id=user_id_for(email), name=name, email=email, created_at=now)

    def to_dict(self) -> dict:
        return asdict(self)


class UserExists(Exception):
    def __init__(self, user_id: str):
        super().__init__(f"user {user_id} already exists")
        self.user_id = user_id


class UserStore(Protocol):
    def describe(self) -> str:
        """Where the users live, for the log."""

    def create(self, user: User) -> None:
        """Stores a new user; raises UserExists if the id is taken."""

    def get(self, user_id: str) -> Optional[User]:
        ...

    def list_users(self, limit: int, after: Optional[str]) -> Tuple[List[User], Optional[str]]:
        ...


def default_sqlite_path() -> str:
    # /tmp is the only writable folder on Lambda; locally it is as good as any.
    return os.path.join(tempfile.gettempdir(), "users-api.sqlite3")


def store_from_env(environ=os.environ) -> UserStore:
    """DynamoDB when USERS_TABLE is set, SQLite (SQLITE_PATH) otherwise."""
    table = environ.get("USERS_TABLE", "").strip()
    if table:
        return DynamoDBStore(table)
    return SQLiteStore(environ.get("SQLITE_PATH", "").strip() or default_sqlite_path())


class SQLiteStore:
    """One connection per thread and per process, opened on first use."""

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS users (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
    """

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
            # timeout: wait for another worker's write lock instead of failing.
            conn = sqlite3.connect(self.path, timeout=10)
            with conn:
                conn.execute(self._SCHEMA)
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def create(self, user: User) -> None:
        conn = self._conn()
        try:
            with conn:
                conn.execute(
                    "INSERT INTO users (id, name, email, created_at) VALUES (?, ?, ?, ?)",
                    (user.id, user.name, user.email, user.created_at),
                )
        except sqlite3.IntegrityError:
            raise UserExists(user.id) from None

    def get(self, user_id: str) -> Optional[User]:
        row = self._conn().execute(
            "SELECT id, name, email, created_at FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        return User(*row) if row else None

    def list_users(self, limit: int, after: Optional[str]):
        # One row more than asked tells whether another page exists, so the
        # last page never hands out a token that leads to an empty page.
        rows = self._conn().execute(
            "SELECT id, name, email, created_at FROM users WHERE id > ? ORDER BY id LIMIT ?",
            (after or "", limit + 1),
        ).fetchall()
        users = [User(*row) for row in rows[:limit]]
        return users, (users[-1].id if len(rows) > limit else None)


class DynamoDBStore:
    """A table with hash key ``id`` (S) and nothing else in its key schema."""

    def __init__(self, table: str, client: Optional[LazyClient] = None):
        self.table = table
        self._client = client or LazyClient("dynamodb")
        preload()  # every request will need boto3: pay for it at start-up

    def describe(self) -> str:
        return f"dynamodb:{self.table}"

    @staticmethod
    def _item(user: User) -> dict:
        return {field: {"S": value} for field, value in user.to_dict().items()}

    @staticmethod
    def _user(item: dict) -> User:
        return User(**{field: item[field]["S"] for field in ("id", "name", "email", "created_at")})

    def create(self, user: User) -> None:
        client = self._client.get()
        try:
            client.put_item(
                TableName=self.table,
                Item=self._item(user),
                ConditionExpression="attribute_not_exists(id)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            raise UserExists(user.id) from None

    def get(self, user_id: str) -> Optional[User]:
        # Consistent read, so a GET right after the POST that created the
        # user finds it.
        response = self._client.get().get_item(
            TableName=self.table, Key={"id": {"S": user_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return self._user(item) if item else None

    def list_users(self, limit: int, after: Optional[str]):
        # Scan may return fewer items than its Limit (1 MB pages), so keep
        # scanning until limit + 1 items or the end of the table. The token
        # is the last returned id: Scan resumes after any key given as
        # ExclusiveStartKey.
        client = self._client.get()
        items = []
        start = {"id": {"S": after}} if after else None
        while len(items) <= limit:
            kwargs = {"TableName": self.table, "Limit": limit + 1 - len(items)}
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = client.scan(**kwargs)
            items.extend(response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        users = [self._user(item) for item in items[:limit]]
        return users, (users[-1].id if len(items) > limit else None)
