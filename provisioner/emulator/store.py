"""The emulator's state: one SQLite database (a file, or memory for tests).

Every request runs in one `transaction()`: a process-wide lock plus SQLite's
`BEGIN IMMEDIATE`, so concurrent requests in this process and other processes
sharing the same file see one consistent "Azure". Resources are stored as the
JSON document Azure would return, keyed by their lower-cased ARM id (ARM ids
are case-insensitive) while the document keeps the casing it was created with.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from provisioner.emulator.errors import StateFileError
from provisioner.emulator.files import made_directory, private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY,        -- lower-cased ARM id
    type TEXT NOT NULL,          -- lower-cased resource type, e.g. microsoft.cognitiveservices/accounts
    parent TEXT,                 -- key of the parent resource or resource group
    doc TEXT NOT NULL            -- the JSON document as Azure returns it
);
CREATE INDEX IF NOT EXISTS resources_type_parent ON resources(type, parent);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,         -- guid in the operationResults URL
    resource_key TEXT NOT NULL,  -- what the operation changes
    lock_key TEXT,               -- the account whose writes it blocks (None: blocks nothing)
    action TEXT NOT NULL,        -- write | delete
    started REAL NOT NULL,
    finishes REAL NOT NULL,
    outcome TEXT NOT NULL,       -- Succeeded | Failed
    error TEXT,                  -- JSON error for Failed
    settled INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL            -- the operation status document (name, startTime, ...)
);
CREATE INDEX IF NOT EXISTS operations_pending ON operations(settled, finishes);
-- every write asks whether its account or resource is busy: without these, a scan of every operation ever
CREATE INDEX IF NOT EXISTS operations_lock ON operations(lock_key, finishes);
CREATE INDEX IF NOT EXISTS operations_resource ON operations(resource_key, finishes);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quota_limits (
    subscription TEXT NOT NULL, region TEXT NOT NULL, usage_name TEXT NOT NULL, quota_limit INTEGER NOT NULL,
    PRIMARY KEY (subscription, region, usage_name)
);
CREATE TABLE IF NOT EXISTS deployment_capacity (
    key TEXT PRIMARY KEY,        -- the deployment's resource key
    subscription TEXT NOT NULL, region TEXT NOT NULL, account TEXT NOT NULL, model TEXT NOT NULL,
    capacity INTEGER NOT NULL    -- what it counts against quota as stored
);
CREATE TABLE IF NOT EXISTS capacity_in_use (
    subscription TEXT NOT NULL, region TEXT NOT NULL, account TEXT NOT NULL,
    model TEXT NOT NULL,         -- format/name/version/sku: the catalog maps it to a usage name
    used INTEGER NOT NULL,
    PRIMARY KEY (subscription, region, account, model)
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule TEXT NOT NULL,          -- JSON: {"kind", "method", "path", "times", "probability", ...}
    remaining INTEGER            -- None: unlimited (probability rules)
);
"""


# Quota in use, kept as aggregates by triggers on every deployment write and delete (O(1) each, a
# cascade included), inside the writing transaction: every process sharing the state agrees, and
# reading what is in use never parses the deployments. The region is the account's, read when the
# deployment is written (an account's location never changes).
DEPLOYMENT_TYPE = "microsoft.cognitiveservices/accounts/deployments"
_CAPACITY_ROW = f"""
    SELECT d.key, substr(d.key, 16, instr(substr(d.key, 16), '/') - 1),
           lower(replace(coalesce(json_extract(a.doc, '$.location'), ''), ' ', '')), d.parent,
           coalesce(json_extract(d.doc, '$.properties.model.format'), '') || '/' ||
           coalesce(json_extract(d.doc, '$.properties.model.name'), '') || '/' ||
           coalesce(json_extract(d.doc, '$.properties.model.version'), '') || '/' ||
           coalesce(json_extract(d.doc, '$.sku.name'), ''),
           coalesce(json_extract(d.doc, '$.sku.capacity'), 0)
    FROM resources AS d LEFT JOIN resources AS a ON a.key = d.parent
    WHERE d.type = '{DEPLOYMENT_TYPE}'"""
_FORGET = """
    UPDATE capacity_in_use SET used = used - (SELECT capacity FROM deployment_capacity WHERE key = OLD.key)
        WHERE (subscription, region, account, model) =
              (SELECT subscription, region, account, model FROM deployment_capacity WHERE key = OLD.key);
    DELETE FROM deployment_capacity WHERE key = OLD.key;"""
_COUNT = f"""
    INSERT INTO deployment_capacity {_CAPACITY_ROW} AND d.key = NEW.key;
    INSERT INTO capacity_in_use SELECT subscription, region, account, model, capacity
        FROM deployment_capacity WHERE key = NEW.key
        ON CONFLICT DO UPDATE SET used = used + excluded.used;"""
CAPACITY_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS capacity_insert AFTER INSERT ON resources WHEN NEW.type = '{DEPLOYMENT_TYPE}'
BEGIN {_COUNT} END;
CREATE TRIGGER IF NOT EXISTS capacity_update AFTER UPDATE ON resources WHEN NEW.type = '{DEPLOYMENT_TYPE}'
BEGIN {_FORGET} {_COUNT} END;
CREATE TRIGGER IF NOT EXISTS capacity_delete AFTER DELETE ON resources WHEN OLD.type = '{DEPLOYMENT_TYPE}'
BEGIN {_FORGET} END;
"""
# A state written before the aggregates existed is counted once when opened: linear, then O(1) per write.
CAPACITY_BACKFILL = f"""
DELETE FROM deployment_capacity; DELETE FROM capacity_in_use;
INSERT INTO deployment_capacity {_CAPACITY_ROW};
INSERT INTO capacity_in_use SELECT subscription, region, account, model, sum(capacity)
    FROM deployment_capacity GROUP BY subscription, region, account, model;
"""


def key_of(resource_id: str) -> str:
    return resource_id.rstrip("/").lower()


def parent_key(resource_id: str) -> str:
    """The parent of /subscriptions/s/resourceGroups/g/providers/NS/t1/n1/t2/n2 is .../t1/n1;
    of a top-level resource, its resource group; of a group, its subscription."""
    parts = key_of(resource_id).split("/")
    if "providers" in parts:
        index = parts.index("providers")
        tail = parts[index + 2:]  # after providers/NS: t1/n1[/t2/n2...]
        if len(tail) > 2:
            return "/".join(parts[:-2])
        return "/".join(parts[:index])
    return "/".join(parts[:-2])


SQLITE_MAGIC = b"SQLite format 3\x00"


class Store:
    def __init__(self, path: str | None = None):
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        if path:
            self._db = _open_file(Path(path))
        else:
            self._db = _connect(":memory:")
            self._db.executescript(SCHEMA)
        counted = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'capacity_insert'").fetchone()
        self._db.executescript(CAPACITY_TRIGGERS)
        if not counted:  # idempotent, in one transaction: safe if two processes open an old state at once
            self._db.executescript(f"BEGIN IMMEDIATE; {CAPACITY_BACKFILL} COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator["Store"]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def reset(self) -> None:
        with self.transaction():
            for table in ("resources", "operations", "quota_limits", "faults", "deployment_capacity",
                          "capacity_in_use"):
                self._db.execute(f"DELETE FROM {table}")
            # config, token and the identity platform (keys, principals) survive a reset (Control.reset's
            # contract): requests need them, and clients keep their credentials
            self._db.execute("DELETE FROM settings WHERE key NOT IN ('token', 'config') AND key NOT LIKE 'identity.%'")

    # resources
    def get(self, resource_id: str) -> dict | None:
        row = self._db.execute("SELECT doc FROM resources WHERE key = ?", (key_of(resource_id),)).fetchone()
        return json.loads(row["doc"]) if row else None

    def put(self, resource_id: str, resource_type: str, doc: dict) -> None:
        self._db.execute(
            "INSERT INTO resources(key, type, parent, doc) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET doc = excluded.doc, type = excluded.type",
            (key_of(resource_id), resource_type.lower(), parent_key(resource_id), json.dumps(doc)),
        )

    def delete(self, resource_id: str) -> None:
        """Delete a resource and everything below it."""
        key = key_of(resource_id)
        self._db.execute("DELETE FROM resources WHERE key = ? OR key LIKE ? ESCAPE '\\'",
                         (key, _like_prefix(key)))

    def children(self, parent_id: str, resource_type: str) -> list[dict]:
        rows = self._db.execute("SELECT doc FROM resources WHERE type = ? AND parent = ? ORDER BY key",
                                (resource_type.lower(), key_of(parent_id))).fetchall()
        return [json.loads(r["doc"]) for r in rows]

    def under(self, prefix_id: str, resource_type: str) -> list[dict]:
        """Every resource of a type anywhere below an id (e.g. all accounts of a subscription)."""
        rows = self._db.execute("SELECT doc FROM resources WHERE type = ? AND key LIKE ? ESCAPE '\\' ORDER BY key",
                                (resource_type.lower(), _like_prefix(key_of(prefix_id)))).fetchall()
        return [json.loads(r["doc"]) for r in rows]

    def find_principal(self, object_id: str, resource_types: tuple[str, ...]) -> dict | None:
        """A resource of these types whose managed identity is `object_id` (lower case): a system-assigned
        identity (identity.principalId) or a user-assigned identity resource (properties.principalId)."""
        marks = ", ".join("?" * len(resource_types))
        row = self._db.execute(
            f"SELECT doc FROM resources WHERE type IN ({marks}) AND "
            "(lower(json_extract(doc, '$.identity.principalId')) = ? OR "
            "lower(json_extract(doc, '$.properties.principalId')) = ?) LIMIT 1",
            (*resource_types, object_id, object_id)).fetchone()
        return json.loads(row["doc"]) if row else None

    def subscriptions_in_use(self) -> list[str]:
        """Every subscription id (lower case) that holds a resource."""
        rows = self._db.execute("SELECT DISTINCT substr(key, 16, instr(substr(key, 16), '/') - 1) AS s "
                                "FROM resources WHERE key LIKE '/subscriptions/%/%'").fetchall()
        return [r["s"] for r in rows if r["s"]]

    def capacity_in_use(self, subscription: str, region: str) -> list[sqlite3.Row]:
        """(account key, "format/name/version/sku", capacity) in use in a region: one row per account and
        model, kept up to date by the capacity triggers."""
        return self._db.execute("SELECT account, model, used FROM capacity_in_use WHERE subscription = ? AND "
                                "region = ? AND used != 0", (subscription.lower(), region)).fetchall()

    # operations
    def add_operation(self, op_id: str, *, resource_id: str, lock_id: str | None, action: str,
                      started: float, finishes: float, outcome: str, error: dict | None, doc: dict) -> None:
        self._db.execute(
            "INSERT INTO operations(id, resource_key, lock_key, action, started, finishes, outcome, error, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (op_id, key_of(resource_id), key_of(lock_id) if lock_id else None, action, started, finishes,
             outcome, json.dumps(error) if error else None, json.dumps(doc)),
        )

    def operation(self, op_id: str) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM operations WHERE id = ?", (op_id.lower(),)).fetchone()

    def due_operations(self, now: float) -> list[sqlite3.Row]:
        return self._db.execute("SELECT * FROM operations WHERE settled = 0 AND finishes <= ? ORDER BY finishes",
                                (now,)).fetchall()

    def mark_settled(self, op_id: str) -> None:
        self._db.execute("UPDATE operations SET settled = 1 WHERE id = ?", (op_id,))

    def running_operation(self, lock_id: str, now: float) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM operations WHERE lock_key = ? AND finishes > ? LIMIT 1",
                                (key_of(lock_id), now)).fetchone()

    def running_operation_on(self, resource_id: str, now: float) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM operations WHERE resource_key = ? AND finishes > ? LIMIT 1",
                                (key_of(resource_id), now)).fetchone()

    # settings
    def setting(self, key: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row["value"]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        self._db.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, json.dumps(value)))

    # quota
    def quota_limit(self, subscription: str, region: str, usage_name: str) -> int | None:
        row = self._db.execute(
            "SELECT quota_limit FROM quota_limits WHERE subscription = ? AND region = ? AND usage_name = ?",
            (subscription.lower(), region.lower(), usage_name)).fetchone()
        return row["quota_limit"] if row else None

    def quota_limits(self, subscription: str, region: str) -> dict[str, int]:
        rows = self._db.execute("SELECT usage_name, quota_limit FROM quota_limits WHERE subscription = ? AND region = ?",
                                (subscription.lower(), region.lower())).fetchall()
        return {r["usage_name"]: r["quota_limit"] for r in rows}

    def set_quota_limit(self, subscription: str, region: str, usage_name: str, limit: int) -> None:
        self._db.execute(
            "INSERT INTO quota_limits(subscription, region, usage_name, quota_limit) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(subscription, region, usage_name) DO UPDATE SET quota_limit = excluded.quota_limit",
            (subscription.lower(), region.lower(), usage_name, limit))

    # faults
    def add_fault(self, rule: dict, remaining: int | None) -> int:
        cur = self._db.execute("INSERT INTO faults(rule, remaining) VALUES (?, ?)", (json.dumps(rule), remaining))
        return int(cur.lastrowid)

    def faults(self) -> list[sqlite3.Row]:
        return self._db.execute("SELECT * FROM faults ORDER BY id").fetchall()

    def use_fault(self, fault_id: int) -> None:
        self._db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ? AND remaining IS NOT NULL",
                         (fault_id,))
        self._db.execute("DELETE FROM faults WHERE id = ? AND remaining <= 0", (fault_id,))

    def clear_faults(self) -> None:
        self._db.execute("DELETE FROM faults")


def _connect(target: str) -> sqlite3.Connection:
    db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30)
    db.row_factory = sqlite3.Row
    return db


def _open_file(path: Path) -> sqlite3.Connection:
    """Open (or create) the state file, owner-only, or raise StateFileError saying what is wrong with it."""
    made_directory(path.parent)
    problem = _damage(path)
    if problem:
        raise StateFileError(str(path), problem)
    private_file(path)
    db = _connect(str(path))
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        # A damaged page anywhere makes a later request fail mid-way: find it now, in one pass.
        found = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        db.close()
        raise StateFileError(str(path), f"SQLite cannot read it ({error})") from None
    if found != "ok":
        db.close()
        raise StateFileError(str(path), f"SQLite found damage in it ({found})")
    return db


def _damage(path: Path) -> str | None:
    """What is visibly wrong with an existing state file before SQLite opens it (None: nothing).
    SQLite would open a file with a foreign or cut-off header and fail only on a later read."""
    if not path.exists():
        return None
    if not path.is_file():
        return "it is not a file"
    size = path.stat().st_size
    if size == 0:
        return None  # created but never written: SQLite makes an empty database of it
    with open(path, "rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_MAGIC):
        return "it is not a SQLite database"
    if len(header) < 100:
        return f"it is truncated ({size} bytes)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if page_size and pages and size < page_size * pages:
        return f"it is truncated ({size} bytes of {page_size * pages})"
    return None


def _like_prefix(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"


def now() -> float:
    return time.time()
