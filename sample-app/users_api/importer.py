"""Imports users from CSV files named in S3 ``ObjectCreated`` notifications.

The file has a header row naming (at least) the columns ``name`` and
``email``, in any order; other columns are ignored. Rows are numbered as a
spreadsheet shows them: the header is row 1, the first user row 2.

Import is idempotent: a user's id is derived from the email and stored with a
conditional insert, so a redelivered notification finds every user already
present and imports nothing twice. Rows that fail validation are reported
(row number and reason) and skipped; they are not a reason to retry. Only a
failure that a retry could fix (reading from S3) raises ``RetryableError``.
"""

import csv
import io
import logging
from dataclasses import dataclass, field
from typing import List, Optional
from urllib.parse import unquote_plus

from .store import User, UserExists, UserStore
from .validation import clean_new_user

log = logging.getLogger(__name__)

# How many bad rows one object's report (and the log) lists in full; the
# count always covers them all.
MAX_REPORTED_BAD_ROWS = 100

# S3 errors that no retry can fix: the object or bucket is gone.
_PERMANENT_S3_ERRORS = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "InvalidObjectState"}


class RetryableError(Exception):
    """Importing failed in a way a later attempt could succeed."""


class _FileError(Exception):
    """The file cannot be imported (any further), whatever the retries."""


@dataclass
class ObjectReport:
    bucket: Optional[str]
    key: Optional[str]
    status: str = "imported"  # imported | ignored | failed
    reason: Optional[str] = None
    imported: int = 0
    already_present: int = 0
    bad_row_count: int = 0
    bad_rows: List[dict] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def bad_row(self, row: int, reason: str) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < MAX_REPORTED_BAD_ROWS:
            self.bad_rows.append({"row": row, "error": reason})
            log.warning("%s row %d: %s", self.location, row, reason)

    def to_dict(self) -> dict:
        out = {"bucket": self.bucket, "key": self.key, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.status != "ignored":
            out.update(
                imported=self.imported,
                already_present=self.already_present,
                bad_row_count=self.bad_row_count,
                bad_rows=self.bad_rows,
            )
        return out


class S3Objects:
    """Opens S3 objects as text streams, sorting errors into permanent ones
    (``_FileError``) and ones worth a retry (``RetryableError``)."""

    def __init__(self, client):
        self._client = client  # a LazyClient

    def open_text(self, bucket: str, key: str, version_id: Optional[str]):
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            body = self._client.get().get_object(**kwargs)["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _PERMANENT_S3_ERRORS:
                raise _FileError(f"could not read the object: {code}") from None
            raise RetryableError(f"could not read s3://{bucket}/{key}: {code or exc}") from exc
        except BotoCoreError as exc:
            raise RetryableError(f"could not read s3://{bucket}/{key}: {exc}") from exc
        # utf-8-sig: spreadsheets like to start CSV exports with a BOM.
        return io.TextIOWrapper(body, encoding="utf-8-sig", newline="")


def _lines(stream, location: str):
    """The stream's lines, with read failures sorted as in S3Objects."""
    from botocore.exceptions import BotoCoreError
    from urllib3.exceptions import HTTPError

    while True:
        try:
            line = stream.readline()
        except UnicodeDecodeError:
            raise _FileError("the file is not UTF-8 text") from None
        except (BotoCoreError, HTTPError, OSError) as exc:
            raise RetryableError(f"reading {location} failed midway: {exc}") from exc
        if not line:
            return
        yield line


def import_csv(lines, store: UserStore, report: ObjectReport) -> None:
    """Imports users from CSV ``lines`` (an iterable of str), filling ``report``."""
    reader = csv.reader(lines)
    rowno = 1
    try:
        header = next(reader, None)
        if header is None:
            raise _FileError("the file is empty; expected a header row with the columns name,email")
        columns = [cell.strip().lower() for cell in header]
        missing = [name for name in ("name", "email") if name not in columns]
        if missing:
            raise _FileError(
                f"the header row must name the columns name and email; missing: {', '.join(missing)}"
            )
        for name in ("name", "email"):
            if columns.count(name) > 1:
                raise _FileError(f"the header row names the column {name} more than once")
        name_at, email_at = columns.index("name"), columns.index("email")

        first_row_of = {}  # email -> row, for duplicates within this file
        for rowno, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue  # blank line
            if len(row) != len(columns):
                report.bad_row(rowno, f"expected {len(columns)} fields as in the header, found {len(row)}")
                continue
            values, errors = clean_new_user({"name": row[name_at], "email": row[email_at]})
            if errors:
                report.bad_row(rowno, "; ".join(errors.values()))
                continue
            email = values["email"]
            if email in first_row_of:
                report.bad_row(rowno, f"duplicate email: row {first_row_of[email]} has the same one")
                continue
            first_row_of[email] = rowno
            user = User.new(values["name"], email)
            try:
                store.create(user)
                report.imported += 1
            except UserExists:
                report.already_present += 1
    except csv.Error as exc:
        raise _FileError(f"malformed CSV near row {rowno + 1}: {exc}") from None


def _dig(value, *path):
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _record_target(record):
    """(bucket, key, version_id, None) or (bucket, key, None, why it is ignored)."""
    bucket = _dig(record, "s3", "bucket", "name")
    raw_key = _dig(record, "s3", "object", "key")
    # Keys arrive URL-encoded, with + for spaces.
    key = unquote_plus(raw_key) if isinstance(raw_key, str) else None
    version_id = _dig(record, "s3", "object", "versionId")
    source = _dig(record, "eventSource")
    event_name = _dig(record, "eventName")
    if source != "aws:s3":
        return bucket, key, None, f"not an S3 record (eventSource {source!r})"
    if not isinstance(event_name, str) or not event_name.startswith("ObjectCreated:"):
        return bucket, key, None, f"{event_name} is not an ObjectCreated event; nothing to import"
    if not isinstance(bucket, str) or not bucket or not key:
        return bucket, key, None, "the record names no bucket or object key"
    if not key.lower().endswith(".csv"):
        return bucket, key, None, "not a .csv object; nothing to import"
    return bucket, key, version_id if isinstance(version_id, str) else None, None


def import_notification(records: list, store: UserStore, objects: S3Objects) -> List[ObjectReport]:
    """Imports every CSV object the notification's records name.

    Raises RetryableError (with ``.reports`` holding the work done so far)
    when an object could not be read for a reason a retry could fix.
    """
    reports = []
    for record in records:
        bucket, key, version_id, ignored = _record_target(record)
        report = ObjectReport(bucket=bucket, key=key)
        reports.append(report)
        if ignored:
            report.status, report.reason = "ignored", ignored
            log.info("%s ignored: %s", report.location, ignored)
            continue
        try:
            stream = objects.open_text(bucket, key, version_id)
            try:
                import_csv(_lines(stream, report.location), store, report)
            finally:
                stream.close()
        except _FileError as exc:
            report.status, report.reason = "failed", str(exc)
        except RetryableError as exc:
            report.status, report.reason = "failed", f"{exc} (retryable)"
            log.error("%s; answering with an error so the event is retried", exc)
            exc.reports = reports
            raise
        log.log(
            logging.WARNING if report.status == "failed" else logging.INFO,
            "%s %s: imported %d, already present %d, bad rows %d%s",
            report.location,
            report.status,
            report.imported,
            report.already_present,
            report.bad_row_count,
            f" ({report.reason})" if report.reason else "",
        )
    return reports
